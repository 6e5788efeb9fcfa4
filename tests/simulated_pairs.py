"""Simulated studies with task structure, in the form the predictor reads: `gains` (main, aux, fold,
seed, single, pair, gain), `pair_gains` (main, aux, mean_gain, verdict) and task features.

Every task has a main effect (how much it gains as a main task, sd 0.02 in macro-F1) and an aux
effect (how much it helps others, sd 0.01); every ordered pair adds its own interaction (sd 0.01).
A pair's mean over folds is its gain plus fold noise (standard error 0.01, the size a 5-fold study
with fold scores spread by 0.02 gives); its verdict is a z-test of that mean with Benjamini-Hochberg
over pairs at 0.05. Task features are correlated with each other as measurements of a task are
(label count with entropy, clip count with total duration) and, unless an effect is planted, are
independent of the gains. A planted effect adds `effect` x the standardised normalised label
entropy of the main task to its main effect.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

MAIN_SD, AUX_SD, PAIR_SD, FOLD_SE = 0.02, 0.01, 0.01, 0.01


def task_features(rng: np.random.Generator, n_tasks: int) -> pd.DataFrame:
    n_labels = rng.integers(2, 40, n_tasks).astype(float)
    n_clips = np.round(rng.lognormal(7.5, 1.0, n_tasks))
    duration = rng.lognormal(1.0, 0.6, n_tasks)
    return pd.DataFrame({
        "task": [f"task{i}" for i in range(n_tasks)],
        "n_labels": n_labels,
        "n_clips": n_clips,
        "mean_duration_s": duration,
        "total_duration_s": n_clips * duration,
        "label_entropy": np.log2(n_labels) * rng.uniform(0.6, 1.0, n_tasks),
        "label_norm_entropy": rng.beta(5, 1.5, n_tasks),
        "label_kurtosis": rng.normal(-1.0, 0.8, n_tasks),
        "snr_db": rng.normal(15, 8, n_tasks),
        "curve_grad_30": (smoothed := -rng.lognormal(-7, 1, n_tasks)),
        "curve_fit_c": rng.lognormal(-4, 1, n_tasks),
        # the published gradient: a central difference of two logged minibatch losses
        "bs_curve_grad_30": smoothed + rng.normal(0, 0.01, n_tasks),
    })


def simulated_pairs(rng: np.random.Generator, n_tasks: int = 7, effect: float = 0.0
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(gains, pair_gains, task_features) of one simulated study."""
    features = task_features(rng, n_tasks)
    tasks = list(features["task"])
    planted = effect * stats.zscore(features["label_norm_entropy"].to_numpy())
    main_effect = dict(zip(tasks, rng.normal(0, MAIN_SD, n_tasks) + planted))
    aux_effect = dict(zip(tasks, rng.normal(0, AUX_SD, n_tasks)))
    single = dict(zip(tasks, rng.uniform(0.55, 0.9, n_tasks)))
    rows = [{"main": m, "aux": a,
             "mean_gain": main_effect[m] + aux_effect[a] + rng.normal(0, PAIR_SD)
             + rng.normal(0, FOLD_SE)} for m, a in itertools.permutations(tasks, 2)]
    pair_gains = pd.DataFrame(rows)
    p_values = 2 * stats.norm.sf(np.abs(pair_gains["mean_gain"] / FOLD_SE))
    significant = multipletests(p_values, alpha=0.05, method="fdr_bh")[0]
    pair_gains["verdict"] = np.where(significant, np.where(pair_gains["mean_gain"] > 0, "gain",
                                                           "loss"), "no significant change")
    gains = pair_gains.rename(columns={"mean_gain": "gain"}).drop(columns="verdict").assign(
        fold=0, seed=0, single=lambda t: t["main"].map(single))
    gains["pair"] = gains["single"] + gains["gain"]
    return gains, pair_gains, features
