"""A study trained elsewhere, simulated in the `external_results` format (runs.csv, curves.csv,
task_features.csv), with an optional planted effect of one task feature on the gain."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

FOLDS, SEEDS = range(3), range(2)


def task_table(rng: np.random.Generator, n_tasks: int) -> pd.DataFrame:
    """Task features: `label_entropy` spread evenly (the one an effect is planted on), others random."""
    return pd.DataFrame({
        "task": [f"task{i}" for i in range(n_tasks)],
        "label_entropy": np.linspace(1.0, 4.5, n_tasks),
        "n_labels": rng.integers(2, 50, n_tasks).astype(float),
        "n_clips": rng.integers(100, 5000, n_tasks).astype(float),
        "mean_duration_s": rng.uniform(1, 10, n_tasks),
        "domain": rng.choice(["speech", "music"], n_tasks),
    })


def runs_table(rng: np.random.Generator, features: pd.DataFrame, effect: float) -> pd.DataFrame:
    """Single runs near 0.7; pair score of (main, aux) = single + effect * centred main entropy
    + noise."""
    entropy = features.set_index("task")["label_entropy"]
    single = {(task, fold, seed): 0.7 + rng.normal(0, 0.01)
              for task in entropy.index for fold in FOLDS for seed in SEEDS}
    rows = [{"task": task, "partner": "", "fold": fold, "seed": seed, "score": score}
            for (task, fold, seed), score in single.items()]
    for main, aux in itertools.permutations(entropy.index, 2):
        planted = effect * (entropy[main] - entropy.mean())
        rows += [{"task": main, "partner": aux, "fold": fold, "seed": seed,
                  "score": single[(main, fold, seed)] + planted + rng.normal(0, 0.02)}
                 for fold in FOLDS for seed in SEEDS]
    return pd.DataFrame(rows)


def curves_table(rng: np.random.Generator, tasks: list[str]) -> pd.DataFrame:
    steps = np.arange(0, 200, 5)
    rows = []
    for task in tasks:
        a, c = rng.uniform(-1.0, -0.2), rng.uniform(0.005, 0.1)
        for fold, seed in itertools.product(FOLDS, SEEDS):
            loss = a * np.log(c * steps + 1) + 2.0 + rng.normal(0, 0.01, len(steps))
            rows.append(pd.DataFrame({"task": task, "fold": fold, "seed": seed, "step": steps,
                                      "loss": loss}))
    return pd.concat(rows, ignore_index=True)


def write_external_study(folder: Path, seed: int, effect: float, n_tasks: int = 8) -> Path:
    """Write runs.csv, curves.csv and task_features.csv of a simulated study into `folder`."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    features = task_table(rng, n_tasks)
    runs_table(rng, features, effect).to_csv(folder / "runs.csv", index=False)
    curves_table(rng, list(features["task"])).to_csv(folder / "curves.csv", index=False)
    features.to_csv(folder / "task_features.csv", index=False)
    return folder
