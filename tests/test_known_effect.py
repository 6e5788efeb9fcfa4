"""The analysis finds an effect planted in a simulated study, and finds none where none is planted.

Both simulations go through the whole library path of an `external_results` study: import, gains,
pair features, correlations.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from simulated_study import write_external_study

from analysis.io import read_table
from analysis.meta.pair_features import write_pair_features
from analysis.stats.correlations import write_correlations
from analysis.stats.external import import_external
from analysis.stats.gains import write_gains

Q_LEVEL = 0.05


def analyse(folder: Path, out: Path) -> pd.DataFrame:
    """Import the simulated study and return its correlations table."""
    study = {name: str(out / f"{name}.parquet") for name in
             ("runs", "curves", "per_class", "task_features", "task_factors", "gains", "pf")}
    import_external(str(folder), "accuracy", study["runs"], study["curves"], study["per_class"],
                    study["task_features"], study["task_factors"])
    write_gains(study["runs"], "accuracy", study["gains"])
    write_pair_features(study["task_features"], study["gains"], study["pf"])
    write_correlations(study["gains"], study["pf"], str(out / "correlations.csv"))
    return read_table(out / "correlations.csv")


def test_planted_effect_is_ranked_first_with_the_right_sign(tmp_path) -> None:
    folder = write_external_study(tmp_path / "planted", seed=3, effect=0.04)
    table = analyse(folder, tmp_path / "out")
    top = table.iloc[0]
    assert top["feature"] == "main_label_entropy"
    assert top["pearson_r"] > 0 and top["spearman_rho"] > 0
    assert top["q_value"] < Q_LEVEL
    assert top["pearson_ci_low"] > 0


def test_planted_negative_effect_has_a_negative_sign(tmp_path) -> None:
    folder = write_external_study(tmp_path / "planted", seed=4, effect=-0.04)
    top = analyse(folder, tmp_path / "out").iloc[0]
    assert top["feature"] == "main_label_entropy" and top["pearson_r"] < 0
    assert top["q_value"] < Q_LEVEL


@pytest.mark.slow
def test_no_planted_effect_gives_no_significant_feature_in_most_seeds(tmp_path) -> None:
    significant = []
    for seed in range(20):
        folder = write_external_study(tmp_path / f"null{seed}", seed=100 + seed, effect=0.0)
        table = analyse(folder, tmp_path / f"out{seed}")
        significant.append(bool((table["q_value"] < Q_LEVEL).any()))
    # Benjamini-Hochberg keeps the chance of any false discovery near 5 % under the null.
    assert sum(significant) <= 4, significant
