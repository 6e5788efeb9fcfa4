"""Assign every clip of a manifest to a test fold (`results/splits/{dataset}.parquet`).

Stratified k-fold on one label column (shuffled, seeded), or stratified *group* k-fold when a group
column (e.g. speaker) must stay inside one fold. Output: `clip_id`, `fold` (0..k-1) in manifest order.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from analysis.errors import StudyInputError
from analysis.io import read_table, write_table

logger = logging.getLogger(__name__)


def make_splits(
    manifest_path: str,
    out: str,
    n_folds: int,
    stratify_by: str,
    seed: int,
    group_by: str | None = None,
) -> None:
    """Write the fold of every clip of `manifest_path` to `out`."""
    manifest = read_table(manifest_path)
    folds = assign_folds(manifest, n_folds, stratify_by, seed, group_by, source=str(manifest_path))
    table = pd.DataFrame({"clip_id": manifest["clip_id"].astype(str).to_numpy(), "fold": folds})
    write_table(table, out)
    logger.info(
        "%s: %d clips in %d folds (stratified by %s%s)", manifest_path, len(table), n_folds, stratify_by,
        f", grouped by {group_by}" if group_by else "",
    )


def assign_folds(
    manifest: pd.DataFrame,
    n_folds: int,
    stratify_by: str,
    seed: int,
    group_by: str | None = None,
    source: str = "manifest",
) -> np.ndarray:
    """Test-fold index (int64, 0..n_folds-1) of every row of `manifest`, in row order."""
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise StudyInputError(f"folds must be a whole number >= 2 (got {n_folds!r}).")
    labels = _column(manifest, stratify_by, source, "stratify_by").astype(str).to_numpy()
    counts = pd.Series(labels).value_counts()
    small = counts[counts < n_folds].sort_index()
    if not small.empty:
        details = ", ".join(f"{label!r} ({count} clips)" for label, count in small.items())
        raise StudyInputError(
            f"{source}: column {stratify_by!r} has classes with fewer clips than folds = {n_folds}: "
            f"{details}. Lower `folds` to at most {int(small.min())} or drop those classes."
        )

    folds = np.full(len(labels), -1, dtype=np.int64)
    index = np.zeros((len(labels), 1))  # the splitters only look at the number of rows
    if group_by is None:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        parts = splitter.split(index, labels)
    else:
        groups = _column(manifest, group_by, source, "group_by").astype(str).to_numpy()
        n_groups = len(set(groups))
        if n_groups < n_folds:
            raise StudyInputError(
                f"{source}: column {group_by!r} has {n_groups} groups, fewer than folds = {n_folds}; "
                "grouped folds need at least one group per fold. Lower `folds` or turn grouping off."
            )
        splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        parts = splitter.split(index, labels, groups)
    for fold, (_, test) in enumerate(parts):
        folds[test] = fold
    if (folds < 0).any():
        raise RuntimeError(f"{source}: {int((folds < 0).sum())} clips got no fold")
    _warn_missing_classes(folds, labels, n_folds, source, stratify_by)
    return folds


def _column(manifest: pd.DataFrame, column: str, source: str, role: str) -> pd.Series:
    if column not in manifest.columns:
        hint = (
            "set the dataset's `group` (the label column to keep together) or turn `group_folds` off."
            if role == "group_by"
            else "name one of the label columns in the config."
        )
        raise StudyInputError(
            f"{source}: the {role} column {column!r} does not exist (columns: {list(manifest.columns)}); {hint}"
        )
    values = manifest[column]
    if values.isna().any():
        raise StudyInputError(
            f"{source}: the {role} column {column!r} is empty for {int(values.isna().sum())} clips; "
            "rebuild the manifest with a value for every clip."
        )
    return values


def _warn_missing_classes(folds: np.ndarray, labels: np.ndarray, n_folds: int, source: str, column: str) -> None:
    """Grouped folds cannot always hold every class; say so instead of failing later in training."""
    classes = set(labels)
    for fold in range(n_folds):
        missing = classes - set(labels[folds == fold])
        if missing:
            logger.warning(
                "%s: fold %d has no clip of class(es) %s of %r (grouping keeps whole groups together)",
                source, fold, sorted(missing), column,
            )
