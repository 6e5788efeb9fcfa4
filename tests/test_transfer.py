"""Tests of the transfer jobs (analysis.mtl.transfer_job) and the transfer gains' statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_mtl import MODEL, dataset_paths, train

from analysis.mtl.transfer_job import (
    CHANGED_SHARE,
    pretrain_study_source,
    transfer_study_model,
)
from analysis.stats.simulation import METRIC, Design, simulate_study
from analysis.stats.transfer_gains import (
    transfer_gain_tests,
    transfer_gains_table,
    transfer_vs_mtl,
)

TRAINING = {"epochs": 2, "batch_size": 16, "learning_rate": 0.01, "seeds": [0]}
ALPHA = 0.05


def _paths(root: Path, dataset: str) -> dict[str, dict[str, str]]:
    paths = dataset_paths(root, dataset)
    return {"manifests": {dataset: str(paths["manifest"])},
            "features": {dataset: str(paths["features"])},
            "splits": {dataset: str(paths["splits"])}}


@pytest.fixture(scope="module")
def transferred(study: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("transfer")
    word = {"alpha_word": {"dataset": "alpha", "label": "word"}}
    scene = {"beta_scene": {"dataset": "beta", "label": "scene"}}
    pretrain_study_source(word, _paths(study, "alpha"), str(out / "word.pt"), MODEL, TRAINING)
    transfer_study_model(scene, str(out / "word.pt"), _paths(study, "beta"), str(out / "model"),
                         MODEL, TRAINING, {"costs": [0.0, 1.0], "search_epochs": 1, "policy_steps": 20})
    single = train(study, ["beta_scene"], out / "single", training=TRAINING, checkpoints=None)
    return {"metrics": out / "model" / "metrics.parquet", "single": single,
            "pretrained": out / "word.pt"}


def test_transfer_writes_every_setting_on_the_target_budget(transferred: dict[str, Path]) -> None:
    table = pd.read_parquet(transferred["metrics"])
    assert set(table["method"]) == {"swr", "finetune", "head_only"}
    assert set(table["fold"]) == {0, 1, 2} and set(table["source"]) == {"alpha_word"}
    share = table[table["metric"] == CHANGED_SHARE].set_index(["method", "cost", "fold"])["value"]
    assert share.loc["finetune"].eq(1.0).all() and share.loc["head_only"].eq(0.0).all()
    assert share.sort_index().loc[("swr", 0.0)].eq(0.0).all()
    single = pd.read_parquet(transferred["single"] / "metrics.parquet")
    budget = ["updates", "rows_per_update"]
    expected = single[single["metric"].isin(budget)].set_index(["fold", "metric"])["value"]
    for _, rows in table[table["metric"].isin(budget)].groupby(["method", "cost"], dropna=False):
        assert rows.set_index(["fold", "metric"])["value"].sort_index().equals(
            expected.sort_index())


def simulated_transfer(seed: int, design: Design) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A simulated study (shared fold deviations, task effects, seed noise) read as transfer runs:
    its pair runs are SWR transfers at c = 0.3 (aux = source) and, with other noise, fine-tunings."""
    runs, _, truth = simulate_study(seed, design)
    runs = runs.rename(columns={"score": "value"}).assign(metric=METRIC)
    singles = runs[runs["partner"] == ""]
    pairs = runs[runs["partner"] != ""].rename(columns={"partner": "source"})
    swr = pairs.assign(method="swr", cost=0.3)
    rng = np.random.default_rng(seed + 1000)
    finetune = pairs.assign(method="finetune", cost=np.nan,
                            value=pairs["value"] + rng.normal(0, 0.01, len(pairs)))
    scores = pd.concat([swr, finetune])
    share = scores.assign(metric=CHANGED_SHARE, value=0.3)
    columns = ["source", "task", "method", "cost", "fold", "seed", "metric", "value"]
    sizes = singles[["task", "fold", "n_train", "n_test"]].drop_duplicates(["task", "fold"])
    return pd.concat([scores, share])[columns], singles.assign(partner=""), (truth, sizes)


def _significant(seed: int, design: Design) -> tuple[pd.DataFrame, pd.DataFrame]:
    transfer_runs, singles, (truth, sizes) = simulated_transfer(seed, design)
    gains = transfer_gains_table(transfer_runs, singles, METRIC)
    tests = transfer_gain_tests(gains, sizes.astype({"n_train": int, "n_test": int}), ALPHA)
    return tests, truth


@pytest.mark.slow
def test_transfer_gain_test_keeps_alpha_on_null_studies() -> None:
    studies = 30
    design = Design(n_tasks=4, folds=5, seeds=2)
    found = {"swr": 0, "finetune": 0}
    for seed in range(studies):
        tests, _ = _significant(seed, design)
        for method, rows in tests.groupby("method"):
            found[method] += int((rows["q_value"] < ALPHA).any())
    bound = stats.binom.ppf(0.999, studies, ALPHA)
    assert found["swr"] <= bound and found["finetune"] <= bound, found


def test_planted_transfer_gains_are_found() -> None:
    studies = 8
    design = Design(n_tasks=6, folds=10, seeds=1, planted=6, pair_effect=0.05)
    power = []
    for seed in range(studies):
        tests, truth = _significant(seed, design)
        swr = tests[tests["method"] == "swr"].set_index(["main", "aux"])
        planted = truth[truth["planted"]].index
        power.append(float((swr.loc[planted, "q_value"] < ALPHA).mean()))
    assert np.mean(power) >= 0.8, power


def test_transfer_against_joint_training_on_the_same_folds() -> None:
    mtl = pd.DataFrame({"main": "b", "aux": "a", "fold": range(5), "seed": 0,
                        "single": 0.5, "pair": 0.6, "gain": 0.1})
    gains = mtl.drop(columns="pair").assign(
        method="swr", cost=0.3, transfer=[0.7, 0.72, 0.69, 0.71, 0.7], changed_share=0.3)
    gains["gain"] = gains["transfer"] - gains["single"]
    gains["relative_gain"] = gains["gain"] / gains["single"]
    table = transfer_vs_mtl(gains, mtl, None, ALPHA)
    row = table.iloc[0]
    assert row["mean_mtl_gain"] == pytest.approx(0.1)
    assert row["mean_transfer_gain"] == pytest.approx(0.204)
    assert row["mean_difference"] == pytest.approx(0.104) and row["favours"] == "transfer"


def test_pretrained_network_is_the_single_task_model(study: Path, transferred: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """Pre-training trains what the source's single-task model trains: the same test scores."""
    import torch

    from analysis.mtl.data import build_fold, load_inputs
    from analysis.mtl.metrics import final_evaluation
    from analysis.mtl.settings import TrainingSettings
    from analysis.mtl.transfer_job import load_pretrained

    single = train(study, ["alpha_word"], tmp_path / "single", training=TRAINING, checkpoints=None)
    expected = pd.read_parquet(single / "metrics.parquet").query("metric == 'macro_f1'")
    saved = torch.load(transferred["pretrained"], weights_only=False)
    paths = _paths(study, "alpha")
    config = TrainingSettings.from_config(TRAINING)
    datasets, tasks = load_inputs({"alpha_word": {"dataset": "alpha", "label": "word"}},
                                  paths["manifests"], paths["features"], paths["splits"], None,
                                  config)
    for fold, value in zip(expected["fold"], expected["value"]):
        net = load_pretrained(saved, int(fold), 0)
        report = final_evaluation(net, tasks, build_fold(datasets, tasks, int(fold), config))
        assert report["alpha_word"].scores["macro_f1"] == value


def test_transfer_training_logs_its_startup_once(monkeypatch, caplog) -> None:
    """benchmarks/study.py reads the `startup:` line of every training job, transfer jobs included."""
    import logging

    from analysis.mtl import runtime, transfer

    monkeypatch.setattr(runtime, "_startup_logged", False)
    with caplog.at_level(logging.INFO, logger="analysis.mtl.runtime"):
        transfer._train(None, [], None, 0)
        transfer._train(None, [], None, 0)
    assert caplog.text.count("CPU-s before the first batch") == 1
