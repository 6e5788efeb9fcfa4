"""How the study grows with the number of tasks: dry-runs synthetic studies of 5, 10, 20 and 40 tasks.

Each study is made of demo datasets (`demo: {kind: words}`, three tasks each: word, speaker, gender),
so nothing needs to exist on disk for a dry run (no dataset path is looked at while the Snakefile is
parsed). For each size it prints the jobs per rule, the wall time of `snakemake --dry-run` (parsing
plus building the DAG, the cost paid before the first job is submitted) and, with --measured, the
estimated core-hours from per-job costs measured in a finished study's benchmark files:

    .venv/bin/python benchmarks/scale.py [--sizes 5 10 20 40] [--measured STUDY_DIR] [--profile slurm]

--measured STUDY_DIR reads STUDY_DIR/results/benchmarks/<rule>/*.tsv (written by every job with a
`benchmark:` directive) and sums each rule's median per job: `cpu-h`, CPU hours (Snakemake's
`cpu_time`), and `job-h`, hours of job wall time (each job holds one core or more for that long,
start-up included: the allocation a cluster charges). A rule without measurements counts as 0 and
is named in the output.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
KIND_TASKS = ("word", "speaker", "gender")  # label columns of the `words` demo corpus


def study_config(n_tasks: int) -> dict:
    """The default study's settings with `n_tasks` tasks over ceil(n_tasks / 3) demo datasets."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    datasets = {}
    for index in range(0, n_tasks, len(KIND_TASKS)):
        name = f"d{index // len(KIND_TASKS):02d}"
        labels = KIND_TASKS[: min(len(KIND_TASKS), n_tasks - index)]
        datasets[name] = {
            "demo": {"kind": "words", "clips": 240, "seed": index},
            "reader": "manifest",
            "domain": "speech",
            "tasks": {f"{name}_{label}": label for label in labels},
        }
    config["datasets"] = datasets
    return config


def dry_run(study: Path, config: dict, profile: str | None) -> tuple[Counter, float]:
    """Jobs per rule and the wall seconds of `snakemake --dry-run` on `config` in `study`."""
    config_path = study / "study.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    command = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(study),
               "--configfile", str(config_path), "--dry-run", "--quiet", "rules"]
    command += ["--profile", str(REPO / "workflow/profiles" / profile)] if profile else ["--cores", "1"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=study)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stdout[-2000:] + result.stderr[-4000:])
    jobs = Counter()
    for line in (result.stdout + result.stderr).splitlines():
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if match and match.group(1) != "total":
            jobs[match.group(1)] = int(match.group(2))
    return jobs, seconds


def measured_costs(study: Path) -> dict[str, dict[str, float]]:
    """rule -> median CPU seconds ("cpu_time") and wall seconds ("s") of one job, from a finished
    study's benchmark files."""
    costs = {}
    for folder in sorted((study / "results/benchmarks").glob("*")):
        files = [folder] if folder.is_file() else sorted(folder.rglob("*.tsv"))
        if files:
            table = pd.concat([pd.read_csv(path, sep="\t") for path in files])
            costs[folder.name.removesuffix(".tsv")] = {
                column: statistics.median(table[column].astype(float).dropna())
                for column in ("cpu_time", "s")
            }
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--measured", type=Path, help="a finished study folder with results/benchmarks")
    parser.add_argument("--profile", help="dry-run under workflow/profiles/PROFILE (e.g. slurm)")
    args = parser.parse_args()
    costs = measured_costs(args.measured) if args.measured else {}
    print(f"{'tasks':>5} {'datasets':>8} {'models':>6} {'jobs':>6} {'dry-run s':>9}"
          + (f" {'cpu-h':>7} {'job-h':>7}" if costs else ""))
    unmeasured = set()
    for n_tasks in args.sizes:
        config = study_config(n_tasks)
        with tempfile.TemporaryDirectory(prefix="scale_") as folder:
            jobs, seconds = dry_run(Path(folder), config, args.profile)
        line = (f"{n_tasks:>5} {len(config['datasets']):>8} {jobs['train_model']:>6} "
                f"{sum(jobs.values()):>6} {seconds:>9.1f}")
        if costs:
            unmeasured |= {rule for rule in jobs if rule not in costs and rule != "all"}
            for column in ("cpu_time", "s"):
                seconds = sum(count * costs.get(rule, {}).get(column, 0.0) for rule, count in jobs.items())
                line += f" {seconds / 3600:>7.2f}"
        print(line, flush=True)
    if unmeasured:
        print("no measurements (counted as 0):", ", ".join(sorted(unmeasured)))


if __name__ == "__main__":
    main()
