"""TensorBoard logs are written from a model's recorded tables, one run per fold and seed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from analysis.io import write_table
from analysis.mtl.tensorboard import write_tensorboard_logs


def scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(run))
    events.Reload()
    return {
        tag: [(event.step, pytest.approx(event.value)) for event in events.Scalars(tag)]
        for tag in events.Tags()["scalars"]
    }


def test_logs_hold_every_loss_and_score_of_each_run(tmp_path: Path) -> None:
    curve = pd.DataFrame({
        "task": ["a", "a", "b", "a"], "fold": [0, 0, 0, 1], "seed": [0, 0, 0, 0],
        "step": [1, 2, 1, 1], "loss": [2.0, 1.5, 0.7, 3.0],
    })
    history = pd.DataFrame({
        "task": ["a", "a"], "fold": [0, 1], "seed": [0, 0], "epoch": [1, 1],
        "metric": ["accuracy", "accuracy"], "value": [0.5, 0.25],
    })
    write_table(curve, tmp_path / "curve.parquet")
    write_table(history, tmp_path / "history.parquet")
    out = tmp_path / "tensorboard" / "a__b"
    out.mkdir(parents=True)
    (out / "stale.txt").write_text("from an earlier run")

    write_tensorboard_logs(str(tmp_path / "curve.parquet"), str(tmp_path / "history.parquet"), str(out))

    assert sorted(p.name for p in out.iterdir()) == ["fold0_seed0", "fold1_seed0"]
    assert scalars(out / "fold0_seed0") == {
        "loss/a": [(1, 2.0), (2, 1.5)], "loss/b": [(1, 0.7)], "accuracy/a": [(1, 0.5)],
    }
    assert scalars(out / "fold1_seed0") == {"loss/a": [(1, 3.0)], "accuracy/a": [(1, 0.25)]}
    assert [p.name for p in out.parent.iterdir()] == ["a__b"]  # no staging folder left behind
