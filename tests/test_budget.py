"""A fair comparison: each task's training budget, early stopping and validation clips are the same
in its single-task model and in every pair model; control tasks shuffle labels reproducibly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from test_mtl import TASKS, TRAINING, read_outputs, train

from analysis.mtl.batching import make_sampler
from analysis.mtl.controls import control_base, control_name, is_control, shuffle_codes
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.tasks import MISSING

BUDGET_KEYS = ["task", "fold", "seed"]



def budget(out: Path) -> pd.DataFrame:
    """task, fold, seed, updates, rows_per_update of a model, from its metrics table."""
    metrics = read_outputs(out)["metrics"]
    chosen = metrics[metrics["metric"].isin(["updates", "rows_per_update"])]
    return chosen.pivot_table(index=BUDGET_KEYS, columns="metric", values="value").reset_index()


def main_budget(pair: Path, single: Path, main: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    in_pair = budget(pair).query("task == @main").reset_index(drop=True)
    alone = budget(single).reset_index(drop=True)
    return in_pair, alone


@pytest.mark.parametrize("pair", [("alpha_speaker", "alpha_word"), ("alpha_word", "beta_scene")])
def test_main_task_updates_equal_alone_and_in_pair_both_directions(
    study: Path, tmp_path: Path, pair: tuple[str, str]
) -> None:
    pair_out = train(study, list(pair), tmp_path / "pair")
    for main in pair:
        single_out = train(study, [main], tmp_path / main)
        in_pair, alone = main_budget(pair_out, single_out, main)
        assert len(alone) == 3 and alone["updates"].gt(0).all()
        pd.testing.assert_frame_equal(in_pair, alone)
        # the same batches, in the same order: the task's curve has the same steps' rows
        steps = read_outputs(pair_out)["curve"].query("task == @main").groupby("fold").size()
        assert steps.tolist() == alone["updates"].astype(int).tolist()


def test_mixed_batching_is_not_budget_fair(study: Path, tmp_path: Path) -> None:
    """The check above can fail: with epoch-based mixed batches the main task of a
    cross-dataset pair gets more updates, with fewer of its rows in each, than alone."""
    mixed = dict(TRAINING, batching="mixed")
    pair_out = train(study, ["alpha_word", "beta_scene"], tmp_path / "pair", training=mixed)
    single_out = train(study, ["alpha_word"], tmp_path / "single", training=mixed)
    in_pair, alone = main_budget(pair_out, single_out, "alpha_word")
    assert (in_pair["updates"] > alone["updates"]).all()
    assert (in_pair["rows_per_update"] < alone["rows_per_update"]).all()


def test_budget_sampler_gives_a_task_the_same_chunks_alone_and_in_a_pair() -> None:
    rows = torch.arange(50)
    seeds = RunSeeds(seed=0, fold=1)
    main, aux = rows < 40, rows >= 40  # 40 and 10 rows: 3 and 1 chunks of 16
    alone = make_sampler("budget", rows, {"m": main}, 16, seeds.batches(), seeds.task_batches)
    paired = make_sampler("budget", rows, {"a": aux, "m": main}, 16, seeds.batches(),
                          seeds.task_batches)
    assert alone.steps_per_epoch() == paired.steps_per_epoch() == 3
    for _ in range(2):  # two epochs
        single_steps, pair_steps = alone.batches(), paired.batches()
        assert [b.tasks for b in pair_steps] == [("m",), ("m",), ("a", "m")]
        for single_batch, pair_batch in zip(single_steps, pair_steps):
            own = pair_batch.rows[pair_batch.owners == 1]
            assert torch.equal(own, single_batch.rows)
        aux_rows = torch.cat([b.rows[b.owners == 0] for b in pair_steps])
        assert sorted(aux_rows.tolist()) == list(range(40, 50))


def test_budget_batches_train_each_row_for_its_own_task_only() -> None:
    rows = torch.arange(8)
    seeds = RunSeeds(seed=0, fold=0)
    labelled = {"a": torch.ones(8, dtype=torch.bool), "b": torch.ones(8, dtype=torch.bool)}
    sampler = make_sampler("budget", rows, labelled, 8, seeds.batches(), seeds.task_batches)
    (batch,) = sampler.batches()
    y = torch.stack([torch.arange(8), torch.arange(8) + 10], dim=1)[batch.rows]
    targets = batch.targets(y)
    assert len(batch.rows) == 16  # one same-dataset clip can appear once per task
    assert ((targets != MISSING).sum(dim=1) == 1).all()
    assert ((targets[:, 0] != MISSING).sum(), (targets[:, 1] != MISSING).sum()) == (8, 8)


def test_pair_early_stopping_selects_each_task_on_its_own_validation_loss(
    study: Path, tmp_path: Path
) -> None:
    training = dict(TRAINING, epochs=10, learning_rate=0.05,
                    early_stopping={"patience": 2, "validation_fraction": 0.2})
    out = train(study, ["alpha_word", "beta_scene"], tmp_path / "pair", training=training)
    tables = read_outputs(out)
    best = json.loads((out / "efficiency.json").read_text())["best_epoch"]
    history, metrics = tables["history"], tables["metrics"]
    for (task, fold), losses in history.query("metric == 'validation_loss'").groupby(
            ["task", "fold"]):
        losses = losses.set_index("epoch")["value"]
        # the task's own choice: the best epoch before its patience ran out
        chosen, waited = 1, 0
        for epoch, loss in losses.items():
            if loss < losses[chosen] or epoch == 1:
                chosen, waited = epoch, 0
            else:
                waited += 1
            if waited >= 2:
                break
        assert best[f"{fold}/0"][task] == chosen
        scored = metrics.query("task == @task and fold == @fold").set_index("metric")["value"]
        assert scored["scored_epoch"] == chosen
        at_best = history.query("task == @task and fold == @fold and epoch == @chosen and "
                                "metric == 'accuracy'")["value"].item()
        assert scored["accuracy"] == pytest.approx(at_best)


def test_early_stopping_budget_alone_and_in_pair_match_at_the_same_epoch(
    study: Path, tmp_path: Path
) -> None:
    """Validation clips of alpha are the same alone and with beta: same updates per epoch."""
    training = dict(TRAINING, epochs=6, early_stopping={"patience": 10})
    pair_out = train(study, ["alpha_word", "beta_scene"], tmp_path / "pair", training=training)
    single_out = train(study, ["alpha_word"], tmp_path / "single", training=training)
    in_pair, alone = main_budget(pair_out, single_out, "alpha_word")
    pd.testing.assert_frame_equal(in_pair, alone)


def test_control_labels_are_shuffled_within_each_part_reproducibly() -> None:
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, size=60)
    codes[::7] = MISSING
    folds = np.arange(60) % 3
    shuffled = shuffle_codes(codes, folds, 1, "t_control")
    assert np.array_equal(shuffled, shuffle_codes(codes, folds, 1, "t_control"))
    assert not np.array_equal(shuffled, shuffle_codes(codes, folds, 2, "t_control"))
    assert np.array_equal(shuffled == MISSING, codes == MISSING)
    for part in (folds != 1, folds == 1):
        assert sorted(shuffled[part]) == sorted(codes[part])  # class counts kept per part
    assert (shuffled != codes).mean() > 0.3


def test_control_pair_trains_on_shuffled_labels(study: Path, tmp_path: Path) -> None:
    control = control_name("alpha_word")
    assert is_control(control) and control_base(control) == "alpha_word"
    assert not is_control("alpha_word")
    tasks = {"alpha_word": TASKS["alpha_word"], control: dict(TASKS["alpha_word"], control=True)}
    training = dict(TRAINING, epochs=12)
    metrics = read_outputs(train(study, tasks, tmp_path / "pair", training=training))["metrics"]
    accuracy = metrics.query("metric == 'accuracy'").groupby("task")["value"].mean()
    assert accuracy["alpha_word"] > 0.7
    assert accuracy[control] < 0.55  # 3 classes: no better than chance, give or take
