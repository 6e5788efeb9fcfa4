"""Resume acceptance: a training job killed (SIGKILL in the middle of an epoch or after its first
scheduled checkpoint, SIGTERM as at a SLURM time limit), rerun, ends with the tables of an
uninterrupted run, also from a study folder moved elsewhere, and nothing half-written is left."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.errors import StudyInputError
from analysis.io import write_array, write_table
from analysis.mtl.checkpoints import CheckpointSchedule, run_fingerprint

N_CLIPS, N_FOLDS, BATCH, EPOCHS = 45, 3, 8, 4
STEPS_PER_EPOCH = int(np.ceil(N_CLIPS * (N_FOLDS - 1) / N_FOLDS / BATCH))  # 30 clips: 4 steps
BLOCK_AT = 4 * STEPS_PER_EPOCH + STEPS_PER_EPOCH + 2  # fold 1 (after fold 0), epoch 2, 2nd step

# The job: train_study_model on the arguments in a JSON file; it appends every (fold, epoch) it
# trains to a file. With a marker path, the batch fetch number BLOCK_AT writes the marker and
# sleeps, so the test can kill it in mid-epoch. `pause` seconds are slept after every epoch, so a
# test can act while the job is still training.
CHILD = """
import json, sys, time
from pathlib import Path
import analysis.mtl.data as data
from analysis.mtl.train import train_study_model

arguments = json.loads(Path(sys.argv[1]).read_text())
marker, block_at = arguments.pop("marker"), arguments.pop("block_at")
epochs, pause = Path(arguments.pop("epochs_file")), arguments.pop("pause", 0.0)
def record(end):
    with epochs.open("a") as handle:
        handle.write(f"{end.fold} {end.epoch}\\n")
    time.sleep(pause)
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


def job_arguments(
    inputs: dict, out: Path, checkpoints: Path | None, schedule: dict | None = None
) -> dict:
    return {
        "tasks": {"alpha_speaker": {"dataset": "alpha", "label": "speaker"},
                  "alpha_word": {"dataset": "alpha", "label": "word"}},
        **inputs,
        "out_dir": str(out),
        "model": {"type": "dnn", "hidden": [16, 16, 16], "dropout": 0.1},
        "training": {"epochs": EPOCHS, "batch_size": BATCH, "learning_rate": 0.01, "seeds": [0]},
        "checkpoint_dir": str(checkpoints) if checkpoints else None,
        "checkpoints": {"every_epochs": 1} if schedule is None else schedule,
        "progress": False,
    }


def start_job(
    tmp_path: Path, name: str, arguments: dict, marker: Path | None = None, pause: float = 0.0
):
    script, argument_file = tmp_path / "job.py", tmp_path / f"{name}.json"
    script.write_text(CHILD)
    argument_file.write_text(json.dumps({**arguments, "marker": str(marker or ""),
                                         "block_at": BLOCK_AT, "pause": pause,
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


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """(the inputs, the output folder of an uninterrupted run on them without checkpoints)."""
    root = tmp_path_factory.mktemp("reference")
    inputs = make_inputs(root / "inputs")
    run_job(root, "reference", job_arguments(inputs, root / "reference", None))
    return inputs, root / "reference"


@pytest.mark.slow
def test_sigkill_in_mid_epoch_then_rerun_gives_the_uninterrupted_numbers(
    tmp_path: Path, reference: tuple[dict, Path]
) -> None:
    inputs, expected = reference

    out, checkpoints, marker = tmp_path / "resumed", tmp_path / "checkpoints", tmp_path / "blocked"
    arguments = job_arguments(inputs, out, checkpoints)
    job = start_job(tmp_path, "killed", arguments, marker)
    wait_for(marker, job)
    os.kill(job.pid, signal.SIGKILL)
    job.wait(timeout=60)
    assert job.returncode == -signal.SIGKILL

    assert not out.exists()  # no table of a run that did not finish
    # fold 0 finished (its records replace its checkpoint), fold 1 was in training
    assert sorted(p.name for p in checkpoints.iterdir()) == ["fold0_seed0.finished.json",
                                                             "fold1_seed0.pt"]
    saved = torch.load(checkpoints / "fold1_seed0.pt", weights_only=True)
    assert saved["state"]["epoch"] == 1  # killed in epoch 2 of fold 1
    # what a kill in the middle of a save leaves: a temporary file beside the whole checkpoint
    (checkpoints / ".fold1_seed0.pt.k1ll3d.pt").write_bytes(b"half a checkpoint")

    trained = run_job(tmp_path, "rerun", arguments)
    assert trained[0] == (1, 2)  # fold 0 skipped, fold 1 resumed after its epoch 1
    assert_same_tables(out, expected)
    assert only_finished_records(checkpoints)  # cleared, stale temporary file included
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file


def only_finished_records(checkpoints: Path) -> bool:
    """What a finished job leaves: each run's records, no training checkpoint or temporary file."""
    expected = [f"fold{fold}_seed0.finished.json" for fold in range(N_FOLDS)]
    return sorted(p.name for p in checkpoints.iterdir()) == expected


def saved_epoch(path: Path) -> int:
    return torch.load(path, weights_only=True)["state"]["epoch"]


def assert_same_tables(out: Path, reference: Path) -> None:
    resumed, expected = tables(out), tables(reference)
    assert {"metrics", "curve", "history"} <= set(expected)
    assert resumed.keys() == expected.keys()
    for name, table in expected.items():
        pd.testing.assert_frame_equal(resumed[name], table, obj=name)


@pytest.mark.slow
def test_sigkill_after_the_first_scheduled_checkpoint_then_rerun(
    tmp_path: Path, reference: tuple[dict, Path]
) -> None:
    """Every 3 epochs (counted over the job's runs), or every hour: killed some time after the
    first checkpoint appears, the rerun resumes from the latest one and ends identical."""
    inputs, expected = reference

    out, checkpoints = tmp_path / "resumed", tmp_path / "checkpoints"
    schedule = {"every_epochs": 3, "every_seconds": 3600}
    arguments = job_arguments(inputs, out, checkpoints, schedule)
    job = start_job(tmp_path, "killed", arguments, pause=0.3)
    first = checkpoints / "fold0_seed0.pt"
    wait_for(first, job)
    time.sleep(0.4)  # about one more epoch: the kill lands between two checkpoints
    os.kill(job.pid, signal.SIGKILL)
    job.wait(timeout=60)
    assert job.returncode == -signal.SIGKILL
    assert not out.exists()

    saved = {}  # {fold: epoch} of the checkpoints: every 3rd epoch of the job (4 per fold)
    for path in checkpoints.glob("fold*_seed0.pt"):
        saved[int(path.name[len("fold")])] = saved_epoch(path)
    assert all((fold * EPOCHS + epoch) % 3 == 0 for fold, epoch in saved.items())
    finished = {int(path.name[len("fold")]) for path in checkpoints.glob("*.finished.json")}
    assert finished == set(range(max(finished, default=-1) + 1))  # runs finish in order
    latest = max([*saved.items(), *((fold, EPOCHS) for fold in finished)])

    trained = run_job(tmp_path, "rerun", arguments)
    # resumed after the latest checkpoint, or at the run after the last finished one
    assert trained[0] == ((latest[0], latest[1] + 1) if latest[1] < EPOCHS else (latest[0] + 1, 1))
    assert len(trained) < N_FOLDS * EPOCHS
    assert_same_tables(out, expected)
    assert only_finished_records(checkpoints)


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_the_rerun_resumes_from_it(
    tmp_path: Path, reference: tuple[dict, Path]
) -> None:
    """With scheduled checkpoints off, SIGTERM (a SLURM time limit) still saves the run at the
    next epoch end; the job exits with 143."""
    inputs, expected = reference

    out, checkpoints = tmp_path / "resumed", tmp_path / "checkpoints"
    never = {"every_epochs": None, "every_seconds": None}
    arguments = job_arguments(inputs, out, checkpoints, never)
    job = start_job(tmp_path, "terminated", arguments, pause=0.5)
    epochs_file, deadline = tmp_path / "terminated.epochs", time.monotonic() + 180
    while not epochs_file.exists() or len(epochs_file.read_text().split("\n")) <= EPOCHS + 2:
        assert job.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)  # until fold 0 and the first two epochs of fold 1 are done
    # nothing scheduled: fold 0 left only the records of its finished run
    assert [p.name for p in checkpoints.iterdir()] == ["fold0_seed0.finished.json"]
    os.kill(job.pid, signal.SIGTERM)  # during fold 1, epoch 2 or 3
    job.wait(timeout=60)
    assert job.returncode == 128 + signal.SIGTERM
    (saved,) = checkpoints.glob("*.pt")  # the run in progress (fold 1, unless the test lagged)
    fold, stopped = int(saved.name[len("fold")]), saved_epoch(saved)
    assert fold >= 1 and stopped >= 1

    trained = run_job(tmp_path, "rerun", arguments)
    assert all(f >= 1 for f, _ in trained)  # fold 0 finished before the SIGTERM: not trained again
    assert (fold, stopped) not in trained  # resumed after the saved epoch
    assert stopped == EPOCHS or (fold, stopped + 1) in trained
    assert_same_tables(out, expected)


@pytest.mark.slow
def test_a_moved_study_folder_still_resumes(
    tmp_path: Path, reference: tuple[dict, Path]
) -> None:
    """The fingerprint is built from file contents: the same inputs and checkpoints under another
    path, with other modification times, resume instead of starting again."""
    shared, expected = reference
    shutil.copytree(Path(shared["features"]["alpha"]).parent, tmp_path / "old" / "inputs")
    inputs = {kind: {"alpha": str(tmp_path / "old" / "inputs" / Path(value["alpha"]).name)}
              for kind, value in shared.items()}
    old_out, old_checkpoints = tmp_path / "old" / "out", tmp_path / "old" / "checkpoints"
    job = start_job(tmp_path, "killed", job_arguments(inputs, old_out, old_checkpoints),
                    tmp_path / "blocked")
    wait_for(tmp_path / "blocked", job)
    os.kill(job.pid, signal.SIGKILL)
    job.wait(timeout=60)

    shutil.move(tmp_path / "old", tmp_path / "new")
    for path in (tmp_path / "new" / "inputs").iterdir():
        os.utime(path, (1_000_000_000, 1_000_000_000))
    moved = {kind: {"alpha": value["alpha"].replace("/old/", "/new/")}
             for kind, value in inputs.items()}
    arguments = job_arguments(moved, tmp_path / "new" / "out", tmp_path / "new" / "checkpoints")
    trained = run_job(tmp_path, "rerun", arguments)
    assert trained[0] == (1, 2)  # fold 0 skipped, fold 1 resumed: the checkpoints were accepted
    assert_same_tables(tmp_path / "new" / "out", expected)


def test_checkpoint_schedule_whichever_comes_first() -> None:
    schedule = CheckpointSchedule.from_mapping({"every_epochs": 5, "every_seconds": 30})
    assert not schedule.due(epochs=4, seconds=29.0)
    assert schedule.due(epochs=5, seconds=0.0) and schedule.due(epochs=1, seconds=30.0)
    default = CheckpointSchedule.from_mapping(None)
    assert default.every_epochs is None and not default.due(epochs=10**6, seconds=59.0)
    never = CheckpointSchedule.from_mapping({"every_epochs": None, "every_seconds": None})
    assert not never.due(epochs=10**6, seconds=1e9)
    for bad in ({"every_epochs": 0}, {"every_seconds": 0}, {"every_epochs": 1.5}, {"each": 1}):
        with pytest.raises(StudyInputError, match="checkpoints"):
            CheckpointSchedule.from_mapping(bad)


def test_fingerprint_follows_content_not_path_or_mtime(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "features.npy", tmp_path / "b" / "elsewhere.npy"
    first.parent.mkdir(), second.parent.mkdir()
    first.write_bytes(b"\x01" * 100)
    second.write_bytes(b"\x01" * 100)
    os.utime(second, (1_000_000_000, 1_000_000_000))
    config = ({"t": {"dataset": "alpha"}}, {"type": "dnn"}, {"epochs": 2})
    same = run_fingerprint(*config, {"alpha/features": str(first)})
    assert same == run_fingerprint(*config, {"alpha/features": str(second)})
    second.write_bytes(b"\x01" * 99 + b"\x02")
    assert same != run_fingerprint(*config, {"alpha/features": str(second)})
    assert same != run_fingerprint(*config, {"alpha/splits": str(first)})
