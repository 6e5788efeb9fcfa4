"""Inputs of a model: manifests, feature arrays and splits, and the tensors of one fold.

A fold's training part is the union of the training parts of the model's datasets (sorted by
dataset name); each row carries the targets of every task of the model, `MISSING` for the tasks of
other datasets. Features are standardised per dataset with a scaler fit on that dataset's training
part only, so a task's input is the same in its single-task and pair models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import StandardScaler

from analysis.errors import StudyInputError
from analysis.io import read_table
from analysis.mtl.tasks import MISSING, MulticlassTask, make_task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetInputs:
    """One dataset's manifest, features (n_clips, n_features) and test fold of each clip."""

    name: str
    manifest: pd.DataFrame
    features: np.ndarray  # (n_clips, n_features), float32, memory-mapped
    folds: np.ndarray  # (n_clips,), int64
    features_path: str


@dataclass(frozen=True)
class TestPart:
    x: torch.Tensor  # (n_test, n_features), standardised
    y: np.ndarray  # (n_test,), class indices, labelled clips only


@dataclass(frozen=True)
class FoldData:
    """Preloaded tensors of one fold."""

    fold: int
    task_order: tuple[str, ...]  # column order of train_y
    train_x: torch.Tensor  # (n_train, n_features), float32
    train_y: torch.Tensor  # (n_train, n_tasks), int64, MISSING where a clip lacks the task
    test: dict[str, TestPart]  # task -> its own dataset's test part

    @property
    def n_train(self) -> dict[str, int]:
        """Labelled training clips per task."""
        labelled = (self.train_y != MISSING).sum(dim=0)  # (n_tasks,)
        return {task: int(n) for task, n in zip(self.task_order, labelled)}


def _read_manifest(path: str) -> pd.DataFrame:
    manifest = read_table(path)
    if "clip_id" not in manifest.columns:
        raise StudyInputError(f"{path}: manifest has no 'clip_id' column")
    if manifest["clip_id"].duplicated().any():
        raise StudyInputError(f"{path}: 'clip_id' values are not unique")
    return manifest


def _read_features(path: str, n_clips: int) -> np.ndarray:
    features = np.load(path, mmap_mode="r")
    if features.ndim != 2 or features.shape[0] != n_clips:
        raise StudyInputError(
            f"{path}: features have shape {features.shape}; expected ({n_clips}, n_features) "
            "in manifest order"
        )
    if not np.isfinite(features).all():
        raise StudyInputError(f"{path}: features contain NaN or infinite values")
    return features


def _read_folds(path: str, clip_ids: pd.Series) -> np.ndarray:
    splits = read_table(path)
    missing_cols = {"clip_id", "fold"} - set(splits.columns)
    if missing_cols:
        raise StudyInputError(f"{path}: splits lack column(s) {sorted(missing_cols)}")
    fold_of = splits.set_index("clip_id")["fold"]
    folds = fold_of.reindex(clip_ids.to_numpy())
    if folds.isna().any():
        missing = clip_ids[folds.isna().to_numpy()].head(3).tolist()
        raise StudyInputError(f"{path}: no fold for clip(s) {missing} of the manifest")
    return folds.to_numpy().astype(np.int64)


def load_dataset(
    name: str, manifest_path: str, features_path: str, splits_path: str
) -> DatasetInputs:
    manifest = _read_manifest(manifest_path)
    features = _read_features(features_path, len(manifest))
    folds = _read_folds(splits_path, manifest["clip_id"])
    return DatasetInputs(name, manifest, features, folds, features_path)


def _require(paths: dict[str, str], dataset: str, kind: str) -> str:
    if dataset not in paths:
        raise StudyInputError(f"no {kind} path given for dataset {dataset!r}")
    return paths[dataset]


def load_inputs(
    tasks: dict[str, dict],
    manifests: dict[str, str],
    features: dict[str, str],
    splits: dict[str, str],
) -> tuple[dict[str, DatasetInputs], list[MulticlassTask]]:
    """Read and check every input of a model; tasks come back sorted by name."""
    if not 1 <= len(tasks) <= 2:
        raise StudyInputError(f"a model has 1 or 2 tasks, got {len(tasks)}: {sorted(tasks)}")
    datasets: dict[str, DatasetInputs] = {}
    task_list = []
    for name in sorted(tasks):
        spec = tasks[name]
        dataset = spec.get("dataset")
        if dataset is None:
            raise StudyInputError(f"task {name!r}: missing field 'dataset'")
        if dataset not in datasets:
            datasets[dataset] = load_dataset(
                dataset,
                _require(manifests, dataset, "manifest"),
                _require(features, dataset, "features"),
                _require(splits, dataset, "splits"),
            )
        task_list.append(make_task(name, spec, datasets[dataset].manifest, manifests[dataset]))
    _check_compatible(datasets)
    return datasets, task_list


def _check_compatible(datasets: dict[str, DatasetInputs]) -> None:
    widths = {d.features.shape[1] for d in datasets.values()}
    if len(widths) > 1:
        shapes = {d.features_path: d.features.shape[1] for d in datasets.values()}
        raise StudyInputError(f"the datasets of one model need equal feature widths: {shapes}")
    fold_sets = {name: sorted(set(d.folds.tolist())) for name, d in datasets.items()}
    if len({tuple(f) for f in fold_sets.values()}) > 1:
        raise StudyInputError(f"the datasets of one model need the same folds: {fold_sets}")


def common_folds(datasets: dict[str, DatasetInputs]) -> list[int]:
    first = next(iter(datasets.values()))
    return sorted(set(first.folds.tolist()))


def _standardise(features: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Scale all clips with a StandardScaler fit on the training clips. (n, f) -> (n, f) float32."""
    values = np.asarray(features, dtype=np.float64)  # (n_clips, n_features)
    scaler = StandardScaler().fit(values[train])
    return scaler.transform(values).astype(np.float32)


def build_fold(
    datasets: dict[str, DatasetInputs], tasks: list[MulticlassTask], fold: int
) -> FoldData:
    """Standardise, split and stack the clips of every dataset for test fold `fold`."""
    order = tuple(t.name for t in tasks)
    xs, ys, test = [], [], {}
    for name in sorted(datasets):
        data = datasets[name]
        train = data.folds != fold  # (n_clips,)
        scaled = _standardise(data.features, train)  # (n_clips, n_features)
        targets = np.full((len(data.manifest), len(tasks)), MISSING, dtype=np.int64)
        for column, task in enumerate(tasks):
            if task.dataset == name:
                targets[:, column] = task.encode(data.manifest[task.label])
                test[task.name] = _test_part(task, scaled[~train], targets[~train, column], fold)
        xs.append(scaled[train])
        ys.append(targets[train])
    fold_data = FoldData(
        fold=fold,
        task_order=order,
        train_x=torch.from_numpy(np.concatenate(xs)),
        train_y=torch.from_numpy(np.concatenate(ys)),
        test=test,
    )
    _check_labelled(fold_data)
    return fold_data


def _test_part(task: MulticlassTask, x: np.ndarray, y: np.ndarray, fold: int) -> TestPart:
    labelled = y != MISSING
    if not labelled.any():
        raise StudyInputError(f"task {task.name!r}: no labelled clip in test fold {fold}")
    return TestPart(x=torch.from_numpy(np.ascontiguousarray(x[labelled])), y=y[labelled])


def _check_labelled(fold_data: FoldData) -> None:
    for task, n in fold_data.n_train.items():
        if n == 0:
            raise StudyInputError(
                f"task {task!r}: no labelled clip in the training part of fold {fold_data.fold}"
            )
