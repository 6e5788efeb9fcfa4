"""Models of more than two tasks (task groups): every task trained, with its own fair budget."""

from __future__ import annotations

import json
from pathlib import Path

from test_mtl import N_FOLDS, read_outputs, train


def test_a_three_task_model_trains_every_task(study: Path, tmp_path: Path) -> None:
    out = train(study, ["alpha_speaker", "alpha_word", "beta_scene"], tmp_path / "group")
    tables = read_outputs(out)
    assert set(tables["metrics"]["task"]) == {"alpha_speaker", "alpha_word", "beta_scene"}
    assert tables["metrics"].groupby("task")["fold"].nunique().eq(N_FOLDS).all()
    efficiency = json.loads((out / "efficiency.json").read_text())
    assert efficiency["n_train_clips"] == {"alpha_speaker": 40, "alpha_word": 40, "beta_scene": 32}
    per_task_updates = tables["metrics"].query("metric == 'updates'").groupby("task")["value"].first()
    single = read_outputs(train(study, ["beta_scene"], tmp_path / "single"))["metrics"]
    assert per_task_updates["beta_scene"] == single.query("metric == 'updates'")["value"].iloc[0]
