"""Studies trained elsewhere: import checks, and the whole analysis workflow on imported results."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from simulated_study import write_external_study
from study_data import run_snakemake as snakemake

from analysis.errors import StudyInputError
from analysis.io import read_table
from analysis.stats.external import import_external

OUTPUTS = ("runs", "curves", "per_class", "task_features", "task_factors")


def run_import(folder: Path, out: Path, metric: str = "macro_f1") -> dict[str, pd.DataFrame]:
    paths = {name: str(out / f"{name}.parquet") for name in OUTPUTS}
    import_external(str(folder), metric, paths["runs"], paths["curves"], paths["per_class"],
                    paths["task_features"], paths["task_factors"])
    return {name: read_table(path) for name, path in paths.items()}


def small_study(folder: Path) -> Path:
    folder.mkdir(parents=True)
    pd.DataFrame({"task": ["a", "b", "a", "b"], "partner": ["", "", "b", "a"],
                  "score": [0.5, 0.6, 0.55, 0.58]}).to_csv(folder / "runs.csv", index=False)
    steps = list(range(10))
    pd.DataFrame({"task": ["a"] * 10 + ["b"] * 10, "step": steps * 2,
                  "loss": [2 - 0.1 * s for s in steps] * 2}).to_csv(folder / "curves.csv",
                                                                  index=False)
    return folder


def test_import_defaults_fold_seed_and_names_the_metric(tmp_path) -> None:
    tables = run_import(small_study(tmp_path / "ext"), tmp_path / "out")
    runs = tables["runs"]
    assert list(runs.columns) == ["task", "partner", "fold", "seed", "metric", "value"]
    assert (runs["fold"] == 0).all() and (runs["seed"] == 0).all()
    assert set(runs["metric"]) == {"macro_f1"}
    assert runs.query("task == 'a' and partner == 'b'")["value"].item() == pytest.approx(0.55)
    features = tables["task_features"].set_index("task")
    assert sorted(features.index) == ["a", "b"]
    assert features.loc["a", "curve_grad_50"] == pytest.approx(-0.1)
    assert tables["per_class"].empty
    assert tables["task_factors"]["domain"].isna().all()


def test_import_reads_features_factors_and_curve_features(tmp_path) -> None:
    folder = write_external_study(tmp_path / "ext", seed=0, effect=0.0, n_tasks=4)
    tables = run_import(folder, tmp_path / "out")
    features = tables["task_features"]
    assert {"label_entropy", "n_clips", "curve_fit_a", "curve_grad_10"} <= set(features.columns)
    assert "domain" not in features.columns  # a factor, not a numeric feature
    factors = tables["task_factors"].set_index("task")
    given = pd.read_csv(folder / "task_features.csv").set_index("task")
    assert (factors["domain"] == given["domain"]).all()
    assert len(tables["runs"]) == 4 * 6 + 12 * 6


@pytest.mark.parametrize("file, edit, message", [
    ("runs.csv", lambda t: t.drop(columns=["score"]), r"runs.csv lacks the column\(s\) \['score'\]"),
    ("runs.csv", lambda t: t.assign(score=["x", 0.6, 0.5, 0.5]), r"runs.csv, column 'score': line\(s\) \[2\]"),
    ("runs.csv", lambda t: t.assign(fold=[0, 1.5, 0, 0]), r"column 'fold'.*integer"),
    ("runs.csv", lambda t: t.assign(partner=["", "", "a", "a"]), "its own partner"),
    ("runs.csv", lambda t: pd.concat([t, t.iloc[[0]]]), "repeat the same"),
    ("runs.csv", lambda t: t[t["partner"] == ""], "single-task runs"),
    ("curves.csv", lambda t: t.drop(columns=["loss"]), r"curves.csv lacks the column\(s\) \['loss'\]"),
    ("curves.csv", lambda t: t.assign(step="s"), "column 'step'"),
    ("runs.csv", lambda t: t.assign(fold=["0", "0", "", "0"]),
     r"runs.csv, column 'fold': line\(s\) \[4\] are blank"),
    ("runs.csv", lambda t: t.assign(fold=0, seed=["", 1, 1, 1]),
     r"runs.csv, column 'seed': line\(s\) \[2\] are blank"),
    ("curves.csv", lambda t: t.assign(fold=[""] + [0] * 19), r"curves.csv, column 'fold': line\(s\) \[2\]"),
    ("runs.csv", lambda t: t.assign(n_train=[100, 90, "", ""]), r"both \['n_train', 'n_test'\]"),
    ("runs.csv", lambda t: t.assign(n_train=[100, "", "", ""], n_test=[25, 20, "", ""]),
     r"column 'n_train': line\(s\) \[3\] are blank"),
])
def test_malformed_tables_name_file_and_column(tmp_path, file, edit, message) -> None:
    folder = small_study(tmp_path / "ext")
    edit(pd.read_csv(folder / file, keep_default_na=False)).to_csv(folder / file, index=False)
    with pytest.raises(StudyInputError, match=message):
        run_import(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_task_features_csv_problems(tmp_path) -> None:
    folder = small_study(tmp_path / "ext")
    pd.DataFrame({"task": ["a"], "size": [1.0]}).to_csv(folder / "task_features.csv", index=False)
    with pytest.raises(StudyInputError, match=r"no row for task\(s\) \['b'\]"):
        run_import(folder, tmp_path / "out")
    pd.DataFrame({"task": ["a", "b"], "size": ["big", "1"]}).to_csv(folder / "task_features.csv",
                                                                   index=False)
    with pytest.raises(StudyInputError, match="task_features.csv, column 'size'"):
        run_import(folder, tmp_path / "out")
    pd.DataFrame({"task": ["a", "b"], "curve_fit_a": [1, 2]}).to_csv(
        folder / "task_features.csv", index=False)
    with pytest.raises(StudyInputError, match="computed from curves.csv"):
        run_import(folder, tmp_path / "out")


def test_missing_runs_file_names_it(tmp_path) -> None:
    folder = small_study(tmp_path / "ext")
    (folder / "runs.csv").unlink()
    with pytest.raises(StudyInputError, match="runs.csv not found"):
        run_import(folder, tmp_path / "out")


def test_fold_sizes_are_read_from_single_task_rows(tmp_path) -> None:
    folder = small_study(tmp_path / "ext")
    runs = pd.read_csv(folder / "runs.csv", keep_default_na=False)
    runs.assign(n_train=[300, 200, "", ""], n_test=[100, 50, "", ""]).to_csv(folder / "runs.csv",
                                                                           index=False)
    out = tmp_path / "out"
    paths = {name: str(out / f"{name}.parquet") for name in (*OUTPUTS, "fold_sizes")}
    import_external(str(folder), "macro_f1", paths["runs"], paths["curves"], paths["per_class"],
                    paths["task_features"], paths["task_factors"], paths["fold_sizes"])
    sizes = read_table(paths["fold_sizes"])
    assert sizes.to_dict("list") == {"task": ["a", "b"], "fold": [0, 0], "n_train": [300, 200],
                                     "n_test": [100, 50]}


def test_per_class_csv_is_imported(tmp_path) -> None:
    folder = small_study(tmp_path / "ext")
    pd.DataFrame({"task": ["a", "a"], "partner": ["", "b"], "class": ["x", "x"],
                  "f1": [0.4, 0.5]}).to_csv(folder / "per_class.csv", index=False)
    per_class = run_import(folder, tmp_path / "out")["per_class"]
    assert list(per_class["f1"]) == [0.4, 0.5] and per_class["support"].isna().all()


# --- workflow -------------------------------------------------------------------------------------

EXTERNAL_CONFIG = {"external_results": "imported", "gain_metric": "accuracy",
                   "analysis": {"repetitions": 3, "cv_folds": 3, "seed": 0}}


@pytest.mark.workflow
def test_external_study_runs_end_to_end_with_report(tmp_path) -> None:
    write_external_study(tmp_path / "imported", seed=3, effect=0.04, n_tasks=5)
    result = snakemake(tmp_path, EXTERNAL_CONFIG)
    assert result.returncode == 0, result.stderr[-4000:]
    assert not (tmp_path / "results/models").exists()
    assert not (tmp_path / "results/datasets").exists()
    verdicts = pd.read_csv(tmp_path / "results/analysis/pair_gains.csv")
    assert len(verdicts) == 20
    categories = pd.read_csv(tmp_path / "results/analysis/gain_categories.csv")
    assert {"domain", "aux"} <= set(categories["grouping"])
    correlations = pd.read_csv(tmp_path / "results/analysis/correlations.csv")
    assert correlations["feature"].iloc[0] == "main_label_entropy"
    for figure in ("gain_heatmap", "gain_categories", "class_gains", "correlations",
                   "feature_scatter", "learning_curves", "prediction"):
        assert (tmp_path / f"results/figures/{figure}.png").stat().st_size > 1000
    report = snakemake(tmp_path, EXTERNAL_CONFIG, "--report", "report.html")
    assert report.returncode == 0, report.stderr[-4000:]
    html = (tmp_path / "report.html").read_text(errors="replace")
    assert "gain_heatmap.png" in html and "regression.csv" in html


@pytest.mark.workflow
def test_a_single_test_fold_gives_untested_pairs_and_a_console_warning(tmp_path) -> None:
    folder = write_external_study(tmp_path / "imported", seed=3, effect=0.04, n_tasks=5)
    for name in ("runs.csv", "curves.csv"):  # one predefined split: the fold column left out
        table = pd.read_csv(folder / name, keep_default_na=False)
        table[table["fold"] == 0].drop(columns="fold").to_csv(folder / name, index=False)
    result = snakemake(tmp_path, EXTERNAL_CONFIG)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "20 of 20 pair(s) have a single test fold (n = 1) and are NOT TESTED" in result.stderr
    verdicts = pd.read_csv(tmp_path / "results/analysis/pair_gains.csv")
    assert (verdicts["verdict"] == "not tested: n = 1").all() and (verdicts["n"] == 1).all()
    assert verdicts["q_value"].isna().all()
    categories = pd.read_csv(tmp_path / "results/analysis/gain_categories.csv")
    assert (categories["n_not_tested"] == categories["n_pairs"]).all()
    assert (tmp_path / "results/figures/gain_heatmap.png").stat().st_size > 1000


@pytest.mark.workflow
@pytest.mark.parametrize("config, message", [
    (EXTERNAL_CONFIG | {"external_results": "nowhere"}, "external_results"),
    (EXTERNAL_CONFIG | {"datasets": {}}, "oneOf|valid under each|datasets"),
])
def test_external_config_errors(tmp_path, config, message) -> None:
    result = snakemake(tmp_path, config, "--dry-run")
    assert result.returncode != 0
    assert re.search(message, result.stderr + result.stdout)
