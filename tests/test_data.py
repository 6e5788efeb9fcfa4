"""Tests of the training data path: feature store, scaling, folds and clip_rows (analysis.mtl.data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import analysis.mtl.store as store_module
from analysis.errors import StudyInputError
from analysis.io import write_array, write_table
from analysis.mtl.data import build_fold, common_folds, load_inputs
from analysis.mtl.settings import TrainingSettings
from analysis.mtl.store import FeatureStore, RunningMoments, fit_scaler
from analysis.mtl.tasks import MISSING
from analysis.mtl.train import train_study_model

MODEL = {"type": "dnn", "hidden": [16, 16, 16], "dropout": 0.1}
TRAINING = {"epochs": 3, "batch_size": 8, "learning_rate": 0.01, "seeds": [0]}
TABLES = ("metrics", "curve", "history")


def write_dataset(
    root: Path,
    name: str,
    features: np.ndarray,
    labels: dict[str, list[str]],
    folds: np.ndarray,
    clip_rows: np.ndarray | None = None,
) -> dict[str, str]:
    """Manifest, features, splits (and clip_rows) of a dataset; returns their paths."""
    n_clips = len(folds)
    manifest = pd.DataFrame({"clip_id": [f"{name}/clip{i:03d}.wav" for i in range(n_clips)]})
    for column, values in labels.items():
        manifest[column] = values
    paths = {
        "manifest": str(root / name / "manifest.parquet"),
        "features": str(root / name / "features.npy"),
        "splits": str(root / name / "splits.parquet"),
    }
    write_table(manifest, paths["manifest"])
    write_array(features.astype(np.float32), paths["features"])
    write_table(pd.DataFrame({"clip_id": manifest["clip_id"], "fold": folds}), paths["splits"])
    if clip_rows is not None:
        paths["clip_rows"] = str(root / name / "features.clips.npy")
        write_array(clip_rows.astype(np.int64), paths["clip_rows"])
    return paths


def learnable(n_clips: int, n_classes: int, width: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Features (n_clips, width) whose first two columns depend on the label, and the labels."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, n_classes, size=n_clips)
    features = rng.normal(loc=4.0, scale=3.0, size=(n_clips, width))
    features[:, 0] += 3.0 * classes
    features[:, 1] -= 2.0 * classes
    return features, [f"c{c}" for c in classes]


@pytest.fixture
def alpha(tmp_path: Path) -> dict[str, str]:
    features, labels = learnable(45, 3, 6, seed=1)
    return write_dataset(tmp_path, "alpha", features, {"word": labels}, np.arange(45) % 3)


def train(
    tasks: dict[str, dict], paths: dict[str, dict[str, str]], out: Path, **training
) -> dict[str, pd.DataFrame]:
    clip_rows = {d: p["clip_rows"] for d, p in paths.items() if "clip_rows" in p}
    train_study_model(
        tasks=tasks,
        manifests={d: p["manifest"] for d, p in paths.items()},
        features={d: p["features"] for d, p in paths.items()},
        splits={d: p["splits"] for d, p in paths.items()},
        out_dir=str(out),
        model=MODEL,
        training={**TRAINING, **training},
        progress=False,
        clip_rows=clip_rows or None,
    )
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}


def assert_same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)


WORD = {"alpha_word": {"dataset": "alpha", "label": "word"}}


# Feature store -----------------------------------------------------------------------------


def test_memory_mapped_and_preloaded_stores_train_identically(
    alpha: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert FeatureStore(alpha["features"]).preloaded
    assert not FeatureStore(alpha["features"], preload_mb=0).preloaded
    preloaded = train(WORD, {"alpha": alpha}, tmp_path / "preloaded")
    monkeypatch.setattr(store_module, "CHUNK_BYTES", 100)  # several chunks, maps renewed often
    monkeypatch.setattr(store_module, "REMAP_BYTES", 200)
    mapped = train(WORD, {"alpha": alpha}, tmp_path / "mapped", preload_mb=0)
    assert_same_tables(preloaded, mapped)


def test_store_rows_come_back_in_the_order_asked(alpha: dict[str, str]) -> None:
    array = np.load(alpha["features"])
    index = np.array([7, 2, 2, 40, 0])
    for preload_mb in (0, 100):
        np.testing.assert_array_equal(FeatureStore(alpha["features"], preload_mb).rows(index),
                                      array[index])


def test_non_finite_features_are_an_error(tmp_path: Path) -> None:
    features, labels = learnable(12, 2, 4, seed=0)
    features[5, 2] = np.nan
    paths = write_dataset(tmp_path, "alpha", features, {"word": labels}, np.arange(12) % 2)
    with pytest.raises(StudyInputError, match=r"features.npy.*NaN.*row 5"):
        train(WORD, {"alpha": paths}, tmp_path / "out")


def test_bad_data_options_name_the_field() -> None:
    with pytest.raises(StudyInputError, match="config training.scaling: 'global' is not one of"):
        TrainingSettings.from_config({"scaling": "global"})
    with pytest.raises(StudyInputError, match="training.preload_mb"):
        TrainingSettings.from_config({"preload_mb": -1})


# Scaling ---------------------------------------------------------------------------------


def frames_store(tmp_path: Path) -> tuple[FeatureStore, np.ndarray, np.ndarray]:
    """A (30, 5 frames, 4 bands) store whose frames and bands have distinct statistics."""
    rng = np.random.default_rng(3)
    array = rng.normal(size=(30, 5, 4)) * np.arange(1, 6)[:, None] + np.arange(4) * 10.0
    path = tmp_path / "frames.npy"
    write_array(array.astype(np.float32), path)
    train = np.arange(30) % 3 != 0
    return FeatureStore(str(path)), array.astype(np.float32), train


def test_feature_scaling_pools_frames_per_band(tmp_path: Path) -> None:
    store, array, train = frames_store(tmp_path)
    scaler = fit_scaler(store, train, "feature")
    assert scaler.mean.shape == (4,)
    np.testing.assert_allclose(scaler.mean, array[train].mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_allclose(scaler.scale, array[train].std(axis=(0, 1)), rtol=1e-5)
    scaled = scaler.transform(store.rows(np.flatnonzero(train)))
    np.testing.assert_allclose(scaled.mean(axis=(0, 1)), 0.0, atol=1e-5)


def test_feature_frame_scaling_per_frame_and_band(tmp_path: Path) -> None:
    store, array, train = frames_store(tmp_path)
    scaler = fit_scaler(store, train, "feature_frame")
    assert scaler.mean.shape == (5, 4)
    np.testing.assert_allclose(scaler.mean, array[train].mean(axis=0), rtol=1e-5)
    scaled = scaler.transform(store.rows(np.flatnonzero(train)))
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(scaled.std(axis=0), 1.0, rtol=1e-4)


def test_no_scaling_leaves_rows_unchanged(tmp_path: Path) -> None:
    store, array, train = frames_store(tmp_path)
    np.testing.assert_array_equal(fit_scaler(store, train, "none").transform(store.rows(
        np.arange(30))), array)


def test_scaler_fit_in_chunks_matches_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, train = frames_store(tmp_path)
    whole = fit_scaler(store, train, "feature")
    monkeypatch.setattr(store_module, "CHUNK_BYTES", 3 * store.row_bytes)
    chunked = fit_scaler(store, train, "feature")
    np.testing.assert_allclose(chunked.mean, whole.mean, rtol=1e-6)
    np.testing.assert_allclose(chunked.scale, whole.scale, rtol=1e-6)


def test_constant_feature_is_not_divided_by_zero(tmp_path: Path) -> None:
    path = tmp_path / "constant.npy"
    write_array(np.ones((10, 3), dtype=np.float32), path)
    scaler = fit_scaler(FeatureStore(str(path)), np.ones(10, dtype=bool), "feature")
    assert np.isfinite(scaler.transform(np.ones((2, 3), dtype=np.float32))).all()


@pytest.mark.parametrize("scaling", ["feature", "feature_frame", "none"])
def test_changing_test_clips_leaves_the_scaler_unchanged(
    alpha: dict[str, str], scaling: str
) -> None:
    options = TrainingSettings.from_config({"scaling": scaling})
    datasets, tasks = load_inputs(WORD, *_paths({"alpha": alpha}), options=options)
    before = build_fold(datasets, tasks, 0, options).sources[0].scaler
    features = np.load(alpha["features"])
    test = np.arange(len(features)) % 3 == 0  # fold 0
    features[test] = features[test] * 50.0 - 9.0
    write_array(features, alpha["features"])
    datasets, tasks = load_inputs(WORD, *_paths({"alpha": alpha}), options=options)
    fold = build_fold(datasets, tasks, 0, options)
    after = fold.sources[0].scaler
    for field in ("mean", "scale"):
        left, right = getattr(before, field), getattr(after, field)
        assert (left is None and right is None) or np.array_equal(left, right)
    if scaling != "none":  # the test rows are scaled with the training statistics
        expected = (features[test] - after.mean) / after.scale
        np.testing.assert_allclose(fold.test["alpha_word"].x.numpy(), expected, rtol=1e-5)


def test_scaling_mode_reaches_training(alpha: dict[str, str], tmp_path: Path) -> None:
    scaled = train(WORD, {"alpha": alpha}, tmp_path / "feature")
    raw = train(WORD, {"alpha": alpha}, tmp_path / "none", scaling="none")
    assert not scaled["curve"]["loss"].equals(raw["curve"]["loss"])


def _paths(paths: dict[str, dict[str, str]]) -> tuple[dict, ...]:
    """The manifests, features, splits and clip_rows arguments of load_inputs."""
    return tuple({d: p[key] for d, p in paths.items() if key in p}
                 for key in ("manifest", "features", "splits", "clip_rows"))


# Folds -----------------------------------------------------------------------------------


def test_fold_minus_one_clips_are_never_tested(tmp_path: Path) -> None:
    features, labels = learnable(40, 2, 4, seed=2)
    folds = np.where(np.arange(40) < 10, -1, np.arange(40) % 3)
    paths = write_dataset(tmp_path, "alpha", features, {"word": labels}, folds)
    datasets, tasks = load_inputs(WORD, *_paths({"alpha": paths}))
    assert common_folds(datasets) == [0, 1, 2]
    for fold in (0, 1, 2):
        data = build_fold(datasets, tasks, fold)
        tested = set(data.test["alpha_word"].clip_rows.tolist())
        assert tested == set(np.flatnonzero(folds == fold).tolist())
        assert set(range(10)) <= set(data.sources[0].rows.tolist())  # always trained on
    tables = train(WORD, {"alpha": paths}, tmp_path / "out")
    assert sorted(tables["metrics"]["fold"].unique()) == [0, 1, 2]


def test_splits_with_only_fold_minus_one_are_an_error(tmp_path: Path) -> None:
    features, labels = learnable(12, 2, 4, seed=2)
    paths = write_dataset(tmp_path, "alpha", features, {"word": labels}, np.full(12, -1))
    with pytest.raises(StudyInputError, match="splits.parquet.*fold -1"):
        load_inputs(WORD, *_paths({"alpha": paths}))


PAIR = {
    "alpha_word": {"dataset": "alpha", "label": "word"},
    "beta_scene": {"dataset": "beta", "label": "scene"},
}


def test_pair_runs_the_folds_both_datasets_have(alpha: dict[str, str], tmp_path: Path) -> None:
    features, labels = learnable(30, 2, 6, seed=5)
    beta_folds = np.where(np.arange(30) < 6, -1, np.arange(30) % 2)  # folds 0, 1 and -1
    beta = write_dataset(tmp_path, "beta", features, {"scene": labels}, beta_folds)
    tables = train(PAIR, {"alpha": alpha, "beta": beta}, tmp_path / "pair")
    assert sorted(tables["metrics"]["fold"].unique()) == [0, 1]  # alpha has 0, 1, 2
    # beta's training part in fold 0: its fold 1 and its training-only clips
    datasets, tasks = load_inputs(PAIR, *_paths({"alpha": alpha, "beta": beta}))
    fold = build_fold(datasets, tasks, 0)
    assert fold.n_train == {"alpha_word": 30, "beta_scene": 12 + 6}


def test_pair_without_a_common_fold_is_an_error(alpha: dict[str, str], tmp_path: Path) -> None:
    features, labels = learnable(20, 2, 6, seed=5)
    beta = write_dataset(tmp_path, "beta", features, {"scene": labels}, np.arange(20) % 2 + 5)
    with pytest.raises(StudyInputError, match="no test fold in common"):
        load_inputs(PAIR, *_paths({"alpha": alpha, "beta": beta}))


def test_pair_batches_scale_each_dataset_with_its_own_statistics(
    alpha: dict[str, str], tmp_path: Path
) -> None:
    features, labels = learnable(30, 2, 6, seed=5)
    beta = write_dataset(tmp_path, "beta", features * 10 + 100, {"scene": labels},
                         np.arange(30) % 3)
    datasets, tasks = load_inputs(PAIR, *_paths({"alpha": alpha, "beta": beta}))
    fold = build_fold(datasets, tasks, 1)
    expected = []
    for name in ("alpha", "beta"):  # dataset order
        array = np.load(datasets[name].features_path)
        train = array[datasets[name].folds != 1].astype(np.float64)
        expected.append((train - train.mean(axis=0)) / train.std(axis=0))
    expected = np.concatenate(expected)  # (n_train, n_features)
    positions = torch.randperm(fold.n_rows, generator=torch.Generator().manual_seed(0))[:25]
    x, y = fold.batch(positions)
    np.testing.assert_allclose(x.numpy(), expected[positions.numpy()], rtol=1e-4, atol=1e-4)
    alpha_rows = positions < fold.offsets[1]
    assert (y[alpha_rows, 1] == MISSING).all() and (y[~alpha_rows, 0] == MISSING).all()


# Feature rows that are windows of clips ----------------------------------------------------


@pytest.fixture
def windows(tmp_path: Path) -> dict[str, str]:
    """30 clips of 1 to 3 windows each: every window carries its clip's label signal."""
    clip_features, labels = learnable(30, 3, 6, seed=7)
    n_windows = np.arange(30) % 3 + 1
    clip_rows = np.repeat(np.arange(30), n_windows)
    rng = np.random.default_rng(8)
    rows = clip_features[clip_rows] + rng.normal(scale=0.1, size=(len(clip_rows), 6))
    return write_dataset(tmp_path, "alpha", rows, {"word": labels}, np.arange(30) % 3, clip_rows)


def test_windows_of_a_clip_stay_on_one_side_of_every_split(windows: dict[str, str]) -> None:
    clip_rows = np.load(windows["clip_rows"])
    datasets, tasks = load_inputs(WORD, *_paths({"alpha": windows}))
    labels = tasks[0].targets(datasets["alpha"].manifest)
    for fold in (0, 1, 2):
        data = build_fold(datasets, tasks, fold)
        test = data.test["alpha_word"]
        train_clips = set(clip_rows[data.sources[0].rows].tolist())
        assert train_clips.isdisjoint(test.clip_rows.tolist())
        assert sorted(test.clip_rows.tolist()) == sorted(  # every window of every test clip
            clip_rows[np.isin(clip_rows, np.flatnonzero(np.arange(30) % 3 == fold))].tolist())
        np.testing.assert_array_equal(test.y, labels[test.clip_rows])  # labels follow the clip
        assert len(test.x) == len(test.y)
        _, y = data.batch(torch.arange(data.n_rows))
        np.testing.assert_array_equal(y[:, 0].numpy(), labels[clip_rows[data.sources[0].rows]])


def test_training_on_windows(windows: dict[str, str], tmp_path: Path) -> None:
    tables = train(WORD, {"alpha": windows}, tmp_path / "out")
    assert sorted(tables["metrics"]["fold"].unique()) == [0, 1, 2]
    steps = tables["curve"].query("fold == 0")["step"].max()  # 20 + 30 training windows in fold 0
    assert steps == TRAINING["epochs"] * int(np.ceil(50 / TRAINING["batch_size"]))


def test_feature_rows_without_clip_rows_must_match_the_manifest(
    windows: dict[str, str], tmp_path: Path
) -> None:
    paths = dict(windows)
    paths.pop("clip_rows")
    with pytest.raises(StudyInputError, match="60 feature rows for 30 clips"):
        load_inputs(WORD, *_paths({"alpha": paths}))
    write_array(np.arange(59, dtype=np.int64), tmp_path / "short.clips.npy")
    paths["clip_rows"] = str(tmp_path / "short.clips.npy")
    with pytest.raises(StudyInputError, match=r"short.clips.npy.*\(60,\)"):
        load_inputs(WORD, *_paths({"alpha": paths}))


def test_running_moments_are_bit_identical_to_scikit_learn() -> None:
    """The scaler's statistics equal StandardScaler.partial_fit's exactly, chunk by chunk,
    including a constant column, a large offset and chunks of one row."""
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    rows = rng.normal(size=(1000, 6)).astype(np.float32)
    rows[:, 1] = 2.5  # constant
    rows[:, 2] = rows[:, 2] * 1e-3 + 1e4  # large offset, small spread
    rows[:, 3] = rng.exponential(size=1000) ** 3
    for sizes in ([1000], [1, 999], [333, 1, 400, 266], [7] * 142 + [6]):
        moments, reference = RunningMoments(), StandardScaler()
        for chunk in np.split(rows, np.cumsum(sizes)[:-1]):
            moments.update(chunk)
            reference.partial_fit(chunk)
        np.testing.assert_array_equal(moments.mean, reference.mean_)
        np.testing.assert_array_equal(moments.var, reference.var_)
        np.testing.assert_array_equal(moments.scale(), reference.scale_)
