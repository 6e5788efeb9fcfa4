"""Assign every clip of a manifest to a test fold (`results/splits/{dataset}.parquet`).

Three modes:

- predefined (`folds_from`): the corpus's own split, read from a manifest column. `folds_from:
  fold` makes each distinct value a test fold (sorted, numerically when all are whole numbers:
  ESC's folds 1-5 become 0-4); `folds_from: {column: split, test: [test]}` makes each listed value
  a test fold in the order given and every other clip `-1`, never tested (Speech Commands);
- stratified k-fold on one label column (shuffled, seeded), on the task's labels (`task_labels`,
  the first label of a multilabel clip) when a task is given;
- stratified *group* k-fold when a group column (e.g. speaker) must stay inside one fold.

Output: `clip_id`, `fold` (int64) in manifest order.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from analysis.corpora.tasks import TaskSpec, first_label, task_labels
from analysis.errors import StudyInputError
from analysis.io import read_table, write_table

#: Stratification class of the clips a task variant leaves unlabelled.
UNLABELLED = "<unlabelled>"

logger = logging.getLogger(__name__)


def make_splits(
    manifest_path: str,
    out: str,
    n_folds: int,
    stratify_by: str,
    seed: int,
    group_by: str | None = None,
    folds_from: str | dict | None = None,
    task: dict | None = None,
) -> None:
    """Write the fold of every clip of `manifest_path` to `out`.

    `folds_from` (see the module doc) takes the corpus's own split and ignores the other options;
    `task` (`{"name": ..., **spec}`) stratifies on that task's labels instead of the raw column.
    """
    manifest = read_table(manifest_path)
    source = str(manifest_path)
    if parse_folds_from(folds_from) is not None:
        folds = predefined_folds(manifest, folds_from, source)
        how = f"predefined by {folds_from}"
    else:
        labels = stratification_labels(manifest, stratify_by, task, source, n_folds)
        folds = assign_folds(manifest.assign(**{stratify_by: labels}), n_folds, stratify_by, seed, group_by, source)
        how = f"stratified by {stratify_by}" + (f", grouped by {group_by}" if group_by else "")
    table = pd.DataFrame({"clip_id": manifest["clip_id"].astype(str).to_numpy(), "fold": folds})
    write_table(table, out)
    logger.info("%s: %d clips, folds %s (%s)", manifest_path, len(table), sorted(set(folds.tolist())), how)


def parse_folds_from(folds_from: str | dict | bool | None) -> tuple[str, list[str] | None] | None:
    """(column, test values or None for every value) of a `folds_from` setting; None when off."""
    if folds_from is None or folds_from is False:
        return None
    if isinstance(folds_from, str) and folds_from:
        return folds_from, None
    if isinstance(folds_from, dict) and isinstance(folds_from.get("column"), str):
        unknown = sorted(set(folds_from) - {"column", "test"})
        test = folds_from.get("test")
        if not unknown and isinstance(test, list) and test:
            return folds_from["column"], [str(v) for v in test]
    raise StudyInputError(
        f"folds_from: {folds_from!r} is not a column name, `{{column: ..., test: [values]}}` or false."
    )


def predefined_folds(manifest: pd.DataFrame, folds_from: str | dict, source: str = "manifest") -> np.ndarray:
    """Test fold (int64) of every row from the manifest's split column; -1 for never tested."""
    column, test = parse_folds_from(folds_from)
    values = _column(manifest, column, source, "folds_from").astype(str).str.strip()
    if test is None:
        distinct = sorted(values.unique(), key=lambda v: (0, int(v), v) if v.isdigit() else (1, 0, v))
        test = list(distinct)
    else:
        unknown = sorted(set(test) - set(values))
        if unknown:
            raise StudyInputError(
                f"{source}: folds_from test value(s) {unknown} do not occur in column {column!r} "
                f"(values: {sorted(values.unique())[:10]}); fix folds_from.test."
            )
    code = {value: fold for fold, value in enumerate(test)}
    return values.map(code).fillna(-1).astype(np.int64).to_numpy()


def stratification_labels(
    manifest: pd.DataFrame, column: str, task: dict | None, source: str, n_folds: int
) -> pd.Series:
    """The labels folds are stratified on: the task's (variants applied, first of a multilabel
    clip), with the clips a variant leaves out stratified as one extra class; else the column."""
    if task is None:
        return _column(manifest, column, source, "stratify_by").astype(str)
    spec = dict(task)
    spec = TaskSpec.from_config(spec.pop("name"), spec)
    labels = task_labels(manifest, spec)
    if spec.type == "multilabel":
        labels = first_label(labels)
    missing = labels.isna()
    if missing.any():
        # Too few unlabelled clips for a class of their own: they join the largest class.
        fill = UNLABELLED if missing.sum() >= n_folds else labels.value_counts().index[0]
        labels = labels.fillna(fill)
    return labels.astype(str)


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
            f"{details}. "
            + (f"Lower `folds` to at most {int(small.min())} or drop those classes."
               if int(small.min()) >= 2 else "Add clips of those classes or drop them; `folds` cannot go below 2.")
        )

    # imported here: the Snakefile imports this module (config checks), and scikit-learn would
    # add over a second to every Snakemake start and spawned job
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

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
