"""The study's layer-variance table from models' variances.parquet (analysis.stats.layer_variances)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import StudyInputError
from analysis.stats.layer_variances import collect_layer_variances

LAYERS = ["2", "0"]  # deliberately not sorted: the table keeps forward order


def write_model(folder: Path, variances: dict[str, list[float]]) -> str:
    """variances: task -> one value per (fold, seed) run, the same for every layer but scaled by
    the layer's position (1x, 10x)."""
    rows = [(task, fold, seed, layer, value * 10**position)
            for task, values in variances.items()
            for (fold, seed), value in zip([(0, 0), (0, 1), (1, 0), (1, 1)], values)
            for position, layer in enumerate(LAYERS)]
    folder.mkdir(parents=True)
    table = pd.DataFrame(rows, columns=["task", "fold", "seed", "layer", "variance"])
    table.to_parquet(folder / "variances.parquet")
    return str(folder)


def test_pair_against_single_per_layer_and_run(tmp_path: Path) -> None:
    singles = {"a": write_model(tmp_path / "single/a", {"a": [1.0, 2.0, 4.0, 8.0]}),
               "b": write_model(tmp_path / "single/b", {"b": [1.0, 1.0, 1.0, 1.0]})}
    pairs = {"a__b": write_model(tmp_path / "pair/a__b", {"a": [0.5, 1.0, 2.0, 4.0],
                                                          "b": [2.0, 2.0, 2.0, 2.0]})}
    table = collect_layer_variances(singles, pairs)
    assert list(table.columns) == ["main", "aux", "layer", "single", "pair", "ratio",
                                   "mean_log2_ratio", "n_runs"]
    assert table[["main", "aux", "layer"]].values.tolist() == [
        ["a", "b", "2", ], ["a", "b", "0"], ["b", "a", "2"], ["b", "a", "0"]]
    a = table[table["main"] == "a"]
    assert a["single"].tolist() == pytest.approx([3.75, 37.5])
    assert a["ratio"].tolist() == pytest.approx([0.5, 0.5])
    assert a["mean_log2_ratio"].tolist() == pytest.approx([-1.0, -1.0])
    assert (table["n_runs"] == 4).all()
    assert table.loc[table["main"] == "b", "mean_log2_ratio"].tolist() == pytest.approx([1.0, 1.0])


def test_runs_are_paired_by_fold_and_seed(tmp_path: Path) -> None:
    # same values in another run order: every per-run ratio differs from the ratio of means
    singles = {"a": write_model(tmp_path / "single/a", {"a": [1.0, 2.0, 4.0, 8.0]})}
    pairs = {"a__b": write_model(tmp_path / "pair/a__b", {"a": [8.0, 4.0, 2.0, 1.0]})}
    table = collect_layer_variances(singles, pairs)  # b has no single model: one direction
    assert table["main"].unique().tolist() == ["a"]
    assert table["ratio"].tolist() == pytest.approx([1.0, 1.0])
    expected = np.mean(np.log2([8.0, 2.0, 0.5, 0.125]))
    assert table["mean_log2_ratio"].tolist() == pytest.approx([expected, expected])


def test_a_model_without_the_task_names_the_file(tmp_path: Path) -> None:
    singles = {"a": write_model(tmp_path / "single/a", {"a": [1.0] * 4})}
    pairs = {"a__b": write_model(tmp_path / "pair/a__b", {"b": [1.0] * 4})}
    with pytest.raises(StudyInputError, match=r"pair/a__b/variances.parquet has no rows of task 'a'"):
        collect_layer_variances(singles, pairs)


def test_a_missing_file_says_the_model_was_not_trained(tmp_path: Path) -> None:
    singles = {"a": write_model(tmp_path / "single/a", {"a": [1.0] * 4})}
    with pytest.raises(StudyInputError, match="variances.parquet is missing"):
        collect_layer_variances(singles, {"a__b": str(tmp_path / "pair/a__b")})
