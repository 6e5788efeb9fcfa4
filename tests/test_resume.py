"""Resume acceptance: a training job killed with SIGKILL in the middle of an epoch, rerun, ends with
the tables of an uninterrupted run, and nothing half-written is left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.io import write_array, write_table

N_CLIPS, N_FOLDS, BATCH, EPOCHS = 45, 3, 8, 4
STEPS_PER_EPOCH = int(np.ceil(N_CLIPS * (N_FOLDS - 1) / N_FOLDS / BATCH))  # 30 clips: 4 steps
BLOCK_AT = 4 * STEPS_PER_EPOCH + STEPS_PER_EPOCH + 2  # fold 1 (after fold 0), epoch 2, 2nd step

# The job: train_study_model on the arguments in a JSON file; it appends every (fold, epoch) it
# trains to a file. With a marker path, the batch fetch number BLOCK_AT writes the marker and
# sleeps, so the test can kill it in mid-epoch.
CHILD = """
import json, sys, time
from pathlib import Path
import analysis.mtl.data as data
from analysis.mtl.train import train_study_model

arguments = json.loads(Path(sys.argv[1]).read_text())
marker, block_at = arguments.pop("marker"), arguments.pop("block_at")
epochs = Path(arguments.pop("epochs_file"))
def record(end):
    with epochs.open("a") as handle:
        handle.write(f"{end.fold} {end.epoch}\\n")
arguments["on_epoch_end"] = record
if marker:
    original, calls = data.FoldData.batch, [0]
    def blocking_batch(self, positions):
        calls[0] += 1
        if calls[0] == block_at:
            Path(marker).write_text("blocked")
            time.sleep(600)
        return original(self, positions)
    data.FoldData.batch = blocking_batch
train_study_model(**arguments)
"""


def make_inputs(root: Path) -> dict[str, dict[str, str]]:
    """A two-task dataset with learnable labels: manifest, features and splits."""
    rng = np.random.default_rng(0)
    word, speaker = rng.integers(0, 3, N_CLIPS), rng.integers(0, 2, N_CLIPS)
    features = rng.normal(size=(N_CLIPS, 8)).astype(np.float32)
    features[:, 0] += 3.0 * word
    features[:, 1] += 3.0 * speaker
    clip_ids = [f"clip{i:03d}" for i in range(N_CLIPS)]
    manifest = pd.DataFrame({"clip_id": clip_ids, "word": [f"w{w}" for w in word],
                             "speaker": [f"s{s}" for s in speaker]})
    paths = {"manifests": root / "manifest.parquet", "features": root / "features.npy",
             "splits": root / "splits.parquet"}
    write_table(manifest, paths["manifests"])
    write_array(features, paths["features"])
    write_table(pd.DataFrame({"clip_id": clip_ids, "fold": np.arange(N_CLIPS) % N_FOLDS}),
                paths["splits"])
    return {kind: {"alpha": str(path)} for kind, path in paths.items()}


def job_arguments(inputs: dict, out: Path, checkpoints: Path | None) -> dict:
    return {
        "tasks": {"alpha_speaker": {"dataset": "alpha", "label": "speaker"},
                  "alpha_word": {"dataset": "alpha", "label": "word"}},
        **inputs,
        "out_dir": str(out),
        "model": {"type": "dnn", "hidden": [16, 16, 16], "dropout": 0.1},
        "training": {"epochs": EPOCHS, "batch_size": BATCH, "learning_rate": 0.01, "seeds": [0]},
        "checkpoint_dir": str(checkpoints) if checkpoints else None,
        "progress": False,
    }


def start_job(tmp_path: Path, name: str, arguments: dict, marker: Path | None = None):
    script, argument_file = tmp_path / "job.py", tmp_path / f"{name}.json"
    script.write_text(CHILD)
    argument_file.write_text(json.dumps({**arguments, "marker": str(marker or ""),
                                         "block_at": BLOCK_AT,
                                         "epochs_file": str(tmp_path / f"{name}.epochs")}))
    return subprocess.Popen([sys.executable, str(script), str(argument_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_job(tmp_path: Path, name: str, arguments: dict) -> list[tuple[int, int]]:
    """Run the job to its end; the (fold, epoch) it trained, in order."""
    job = start_job(tmp_path, name, arguments)
    output, _ = job.communicate(timeout=300)
    assert job.returncode == 0, output[-3000:]
    lines = (tmp_path / f"{name}.epochs").read_text().split("\n")
    return [tuple(int(v) for v in line.split()) for line in lines if line]


def wait_for(marker: Path, job: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if job.poll() is not None:
            pytest.fail(f"the job ended before blocking: {job.stdout.read()[-3000:]}")
        if time.monotonic() > deadline:
            job.kill()
            pytest.fail("the job did not reach the blocking step")
        time.sleep(0.05)


def tables(out: Path) -> dict[str, pd.DataFrame]:
    return {path.stem: pd.read_parquet(path) for path in sorted(out.glob("*.parquet"))}


def test_sigkill_in_mid_epoch_then_rerun_gives_the_uninterrupted_numbers(tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "inputs")
    run_job(tmp_path, "reference", job_arguments(inputs, tmp_path / "reference", None))

    out, checkpoints, marker = tmp_path / "resumed", tmp_path / "checkpoints", tmp_path / "blocked"
    arguments = job_arguments(inputs, out, checkpoints)
    job = start_job(tmp_path, "killed", arguments, marker)
    wait_for(marker, job)
    os.kill(job.pid, signal.SIGKILL)
    job.wait(timeout=60)
    assert job.returncode == -signal.SIGKILL

    assert not out.exists()  # no table of a run that did not finish
    assert sorted(p.name for p in checkpoints.iterdir()) == ["fold0_seed0.pt", "fold1_seed0.pt"]
    saved = torch.load(checkpoints / "fold1_seed0.pt", weights_only=True)
    assert saved["state"]["epoch"] == 1  # killed in epoch 2 of fold 1
    # what a kill in the middle of a save leaves: a temporary file beside the whole checkpoint
    (checkpoints / ".fold1_seed0.pt.k1ll3d.pt").write_bytes(b"half a checkpoint")

    trained = run_job(tmp_path, "rerun", arguments)
    assert trained[0] == (1, 2)  # fold 0 skipped, fold 1 resumed after its epoch 1
    resumed, reference = tables(out), tables(tmp_path / "reference")
    assert {"metrics", "curve", "history"} <= set(reference)
    assert resumed.keys() == reference.keys()
    for name, table in reference.items():
        pd.testing.assert_frame_equal(resumed[name], table, obj=name)
    assert not checkpoints.exists()  # cleared, stale temporary file included
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file
