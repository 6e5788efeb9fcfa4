"""A training job's fixed cost: CPU seconds before its first batch, and what they are made of.

Each figure is the median over `--repeats` fresh Python processes (CPU = user + system of the
process), measured in this one run so that they compare on the machine's current load:

- `python`: the interpreter alone;
- `import torch`;
- `import torch + torch._dynamo`: torch.optim imports `torch._dynamo` on its first call (the
  optimizers' `step` is wrapped in `torch.optim.optimizer._use_grad_for_differentiable`, which
  imports it), so no training with a torch optimizer starts below this;
- `import analysis.mtl.train`: the training library (pandas, pyarrow, tqdm and ours on top of torch);
- `training job`: what the Snakemake script `workflow/scripts/train_model.py` does, on a small
  generated pair of datasets, up to the first batch (the job's own `startup:` log line).

and the training job's figure as a ratio of `import torch`, the quantity that does not depend on the
machine's speed. Snakemake's own preamble of a script job (unpickling the job's `snakemake` object,
`import snakemake.script`) adds about 0.1 CPU-s, not counted here.

    .venv/bin/python benchmarks/startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CPU = "import resource; r = resource.getrusage(resource.RUSAGE_SELF); print(r.ru_utime + r.ru_stime)"

MAKE_INPUTS = """
import sys
from pathlib import Path
import numpy as np, pandas as pd
from analysis.io import write_array, write_table
root = Path(sys.argv[1])
rng = np.random.default_rng(0)
for name, n in (("alpha", 240), ("beta", 200)):
    clips = [f"{name}/clip{i:04d}.wav" for i in range(n)]
    labels = rng.integers(0, 4, n)
    manifest = pd.DataFrame({"clip_id": clips, "label": [f"c{c}" for c in labels], "path": clips,
                             "duration_s": 1.0, "sample_rate": 16000, "channels": 1})
    write_table(manifest, root / f"{name}.parquet")
    write_array(rng.normal(size=(n, 168)).astype(np.float32), root / f"{name}.npy")
    write_table(pd.DataFrame({"clip_id": clips, "fold": np.arange(n) % 10}), root / f"{name}.splits.parquet")
"""

# The body of workflow/scripts/train_model.py, with the first batch ending the process.
TRAINING_JOB = """
import sys
from pathlib import Path
import analysis.mtl.runtime as runtime
from analysis.corpora.fold_check import check_training_classes
from analysis.mtl.train import train_study_model
root = Path(sys.argv[1])
def first_batch():
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    print(r.ru_utime + r.ru_stime)
    raise SystemExit(0)
runtime.log_startup = first_batch
import analysis.mtl.train as train
train.log_startup = first_batch
datasets = ("alpha", "beta")
tasks = {f"{d}_label": {"dataset": d, "label": "label"} for d in datasets}
manifests = {d: str(root / f"{d}.parquet") for d in datasets}
splits = {d: str(root / f"{d}.splits.parquet") for d in datasets}
check_training_classes(tasks, manifests, splits)
train_study_model(tasks=tasks, manifests=manifests, features={d: str(root / f"{d}.npy") for d in datasets},
                  splits=splits, out_dir=str(root / "out"), model={"type": "dnn"}, training={},
                  checkpoint_dir=str(root / "checkpoints"), progress=False)
"""

CASES = {
    "python": "pass",
    "import torch": "import torch",
    "import torch + torch._dynamo": "import torch, torch._dynamo",
    "import analysis.mtl.train": "import analysis.mtl.train",
}


def cpu_seconds(code: str, *args: str) -> float:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="startup_") as folder:
        subprocess.run([sys.executable, "-c", MAKE_INPUTS, folder], check=True, cwd=REPO,
                       env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
        figures = {name: [cpu_seconds(f"{code}\n{CPU}") for _ in range(args.repeats)]
                   for name, code in CASES.items()}
        figures["training job, to its first batch"] = [
            cpu_seconds(TRAINING_JOB, folder) for _ in range(args.repeats)
        ]
    medians = {name: statistics.median(values) for name, values in figures.items()}
    torch_cost = medians["import torch"]
    print(f"{'CPU-s, median of ' + str(args.repeats):<36} {'CPU-s':>6} {'/ import torch':>15}")
    for name, value in medians.items():
        print(f"{name:<36} {value:>6.2f} {value / torch_cost:>15.2f}")


if __name__ == "__main__":
    main()
