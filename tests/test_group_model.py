"""Models of more than two tasks (task groups): every task trained, with its own fair budget."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from test_mtl import N_FOLDS, TRAINING, read_outputs, train


def test_a_three_task_model_trains_every_task(study: Path, tmp_path: Path) -> None:
    out = train(study, ["alpha_speaker", "alpha_word", "beta_scene"], tmp_path / "group")
    tables = read_outputs(out)
    assert set(tables["metrics"]["task"]) == {"alpha_speaker", "alpha_word", "beta_scene"}
    assert tables["metrics"].groupby("task")["fold"].nunique().eq(N_FOLDS).all()
    efficiency = json.loads((out / "efficiency.json").read_text())
    assert efficiency["n_train_clips"] == {"alpha_speaker": 40, "alpha_word": 40, "beta_scene": 32}
    # fair budget: every task gets the updates its single-task model gets (its training clips /
    # batch size, per epoch), however many tasks share the network
    updates = tables["metrics"].query("metric == 'updates'").groupby("task")["value"].unique()
    assert list(updates["alpha_word"]) == [TRAINING["epochs"] * np.ceil(40 / TRAINING["batch_size"])]
    assert list(updates["beta_scene"]) == [TRAINING["epochs"] * np.ceil(32 / TRAINING["batch_size"])]
