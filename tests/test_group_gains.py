"""Group gains: the calibrated pair-gain test applied to group models, on simulated studies with
shared fold deviations, task effects and seeds (analysis.stats.simulation), stays calibrated and
finds planted group gains; a task alone in its group is its single-task model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.stats.group_gains import group_gain_table
from analysis.stats.simulation import Design, simulate_study

ALPHA = 0.05
GROUPS = {"t0": "t0__t1", "t1": "t0__t1", "t2": "t2__t3", "t3": "t2__t3"}
SHORT = {f"task{i}": f"t{i}" for i in range(4)}


def study_runs(seed: int, design: Design) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Single-task runs and the runs of two group models (t0, t1) and (t2, t3) of one simulated study:
    a task's scores in its group are its simulated scores with one partner, under the group's name."""
    runs, _, _ = simulate_study(seed, design)
    runs = runs.replace({"task": SHORT, "partner": SHORT})
    tasks = sorted(GROUPS)
    runs = runs.assign(metric="accuracy", value=runs["score"].astype(float))
    singles = runs[runs["partner"] == ""]
    partner = {main: next(t for t in tasks if t != main and GROUPS[t] == GROUPS[main]) for main in GROUPS}
    grouped = runs[runs["partner"] == runs["task"].map(partner)].assign(partner=lambda t: t["task"].map(GROUPS))
    columns = ["task", "partner", "fold", "seed", "metric", "value"]
    return singles[columns], grouped[columns]


def group_table() -> pd.DataFrame:
    return pd.DataFrame([{"group": g, "task": t, "size": 2, "predicted": 0.0, "source": "mean_gain"}
                         for t, g in GROUPS.items()])


def significant(table: pd.DataFrame) -> bool:
    return bool(table["verdict"].isin(["gain", "loss"]).any())


def test_no_group_gain_gives_at_most_alpha_of_studies_with_a_significant_task():
    studies = 40
    design = Design(n_tasks=4, folds=5, seeds=2, pair_effect=0.0)
    found = 0
    for seed in range(studies):
        singles, grouped = study_runs(seed, design)
        found += significant(group_gain_table(singles, group_table(), grouped, "accuracy", ALPHA))
    assert found <= stats.binom.ppf(0.999, studies, ALPHA)


def test_a_planted_group_gain_is_found():
    design = Design(n_tasks=4, folds=10, seeds=1, pair_effect=0.0)
    found = []
    for seed in range(10):
        singles, grouped = study_runs(seed, design)
        grouped = grouped.assign(value=grouped["value"] + np.where(grouped["task"] == "t0", 0.08, 0.0))
        table = group_gain_table(singles, group_table(), grouped, "accuracy", ALPHA).set_index("task")
        found.append(table.loc["t0", "verdict"] == "gain")
    assert sum(found) >= stats.binom.ppf(0.001, 10, 0.8)


def test_a_task_alone_is_its_single_task_model():
    singles, grouped = study_runs(0, Design(n_tasks=4, folds=5, seeds=1))
    groups = pd.concat([group_table().query("task != 't3'"),
                        pd.DataFrame([{"group": "t3", "task": "t3", "size": 1, "predicted": 0.0,
                                       "source": "mean_gain"}])])
    table = group_gain_table(singles, groups, grouped[grouped["task"] != "t3"], "accuracy").set_index("task")
    assert table.loc["t3", "mean_gain"] == 0 and table.loc["t3", "verdict"].startswith("alone")
    assert table.loc["t0", "n"] == 5
