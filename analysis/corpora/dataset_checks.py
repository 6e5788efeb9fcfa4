"""Checks of a dataset's config and of its tasks against the labels read.

`dataset_config_problems` finds what can be told from the config and the dataset folder before any
job runs; `check_tasks` checks every task against the clips a reader listed (column present, two or
more classes, enough clips per class for the folds).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from analysis.config import default
from analysis.corpora.annotations import listing_text
from analysis.corpora.file_readers import (
    BAD_FILES_MODES,
    CONTRACT_COLUMNS,
    FOLDER_LABEL_COLUMN,
    GROUP_COLUMN,
    MANIFEST_SUFFIXES,
    READERS,
    compile_pattern,
    known_readers,
    manifest_file,
)
from analysis.corpora.listing import DEFAULT_DEPTH
from analysis.corpora.presets import resolve_dataset
from analysis.corpora.splits import parse_folds_from, predefined_folds
from analysis.corpora.tasks import TaskSpec, individual_labels, task_labels
from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)


def check_tasks(
    name: str,
    clips: pd.DataFrame,
    tasks: dict[str, TaskSpec],
    n_folds: int,
    folds_from: str | dict | None = None,
) -> list[str]:
    """Check each task after its variant; return the columns the manifest keeps, in task order.

    Every task needs two classes (exactly two for `binary`) and every class at least `n_folds`
    clips (each individual label of a `multilabel` task). With a predefined split (`folds_from`)
    only clips of a test fold count, and `n_folds` is the number of test folds of the split.
    """
    check_task_columns(name, clips, tasks)
    in_test_folds = pd.Series(True, index=clips.index)
    split = parse_folds_from(folds_from)
    if split is not None:
        folds = predefined_folds(clips, folds_from, f"datasets.{name}.folds_from")
        in_test_folds = pd.Series(folds >= 0, index=clips.index)
        n_folds = len(set(folds[folds >= 0].tolist()))
        if n_folds == 0:
            raise StudyInputError(f"datasets.{name}.folds_from: no clip is in a test fold; check the split's values.")
    keep: list[str] = []
    for task in tasks.values():
        _check_task(task, clips, n_folds, in_test_folds, split is not None)
        keep.append(task.label)
    if split is not None:
        keep.append(split[0])
    return list(dict.fromkeys(c for c in keep if c != GROUP_COLUMN))


def check_task_columns(name: str, clips: pd.DataFrame, tasks: dict[str, TaskSpec]) -> None:
    """Every task's column exists and has a label for every clip (cheap: before reading audio)."""
    label_columns = [c for c in clips.columns if c not in CONTRACT_COLUMNS and c != GROUP_COLUMN]
    for task in tasks.values():
        if task.label not in clips.columns or task.label in CONTRACT_COLUMNS:
            raise StudyInputError(
                f"{task.field}: label column {task.label!r} does not exist; "
                f"the label columns are {label_columns}. Fix the column name in the config."
            )
        empty = clips[task.label].astype(str).str.strip() == ""
        if empty.any():
            raise StudyInputError(
                f"{task.field}: label column {task.label!r} is empty for {int(empty.sum())} "
                f"clips ({listing_text(clips.loc[empty, 'clip_id'])}); give every clip a label or drop those clips."
            )


def _check_task(task: TaskSpec, clips: pd.DataFrame, n_folds: int, in_test_folds: pd.Series, predefined: bool) -> None:
    if task.type == "detection":  # strong labels: checked when the events table is read
        return
    labels = task_labels(clips, task)
    if task.type == "multilabel":
        counted = individual_labels(labels[in_test_folds])
        all_classes = individual_labels(labels).unique()
    else:
        counted = labels[in_test_folds].dropna()
        all_classes = labels.dropna().unique()
    variant = " after its keep / exclude / max_per_label" if (task.keep or task.exclude or task.max_per_label) else ""
    if task.type == "binary" and len(all_classes) != 2:
        hint = (f"positive {task.positive!r} is not one of its values" if task.positive is not None
                and task.positive not in set(clips[task.label].astype(str).str.strip()) else
                "set `positive` to one class (every other value becomes the negative class) or use `keep`")
        raise StudyInputError(
            f"{task.field}: a binary task needs exactly two classes{variant}, column {task.label!r} gives "
            f"{len(all_classes)} ({listing_text(sorted(all_classes))}); {hint}."
        )
    if len(all_classes) < 2:
        raise StudyInputError(
            f"{task.field}: label column {task.label!r} has a single class{variant} "
            f"({listing_text(all_classes)!r}); a classification task needs at least two classes. "
            "Drop the task or use another column."
        )
    counts = counted.value_counts().reindex(sorted(all_classes), fill_value=0)
    small = counts[counts < n_folds].sort_index()
    if not small.empty:
        details = ", ".join(f"{label!r} ({count} clips)" for label, count in small.items())
        if predefined:
            fewer = f"fewer clips in the predefined test folds than test folds = {n_folds}"
            fix = "turn the predefined split off (`folds_from: false`) or drop those classes (`exclude`)"
        else:
            fewer = f"fewer clips than folds = {n_folds}"
            fix = _fewer_folds_fix(int(small.min()))
        raise StudyInputError(
            f"{task.field}: column {task.label!r} has classes with {fewer}{variant}: {details}. "
            f"Every fold needs every class: {fix}."
        )


def _fewer_folds_fix(smallest: int) -> str:
    """What to do when a class has `smallest` clips, fewer than the folds (`folds` is at least 2)."""
    if smallest >= 2:
        return f"lower `folds` to at most {smallest} or drop those classes (`exclude`)"
    return "add clips of those classes or drop them (`exclude`); `folds` cannot go below 2"


def dataset_config_problems(name: str, cfg: dict) -> list[str]:
    """Cheap checks of one `datasets.<name>` entry at workflow parse time (no audio is read).

    A corpus preset is checked as the base reader it stands for, with its options filled in.
    `tasks` may map a task to its label column or to its spec.
    """
    problems: list[str] = []
    field = f"datasets.{name}"
    cfg = resolve_dataset(cfg)
    cfg["tasks"] = {
        task: value if isinstance(value, str) else (value or {}).get("label")
        for task, value in (cfg.get("tasks") or {}).items()
    }
    reader = cfg.get("reader")
    spec = READERS.get(reader) if isinstance(reader, str) else None
    if reader is None:
        problems.append(f"{field}.reader is missing; set it to one of {known_readers()}.")
    elif spec is None:
        problems.append(f"{field}.reader: unknown reader {reader!r}; use one of {known_readers()}.")

    is_demo = "demo" in cfg
    root: Path | None = None
    if not is_demo:
        if "path" not in cfg:
            problems.append(f"{field}.path is missing; give the dataset folder (or a `demo:` entry).")
        else:
            candidate = Path(str(cfg["path"])).expanduser()
            if not candidate.exists():
                problems.append(
                    f"{field}.path: folder '{cfg['path']}' does not exist; "
                    "fix the path (relative paths are taken from the working directory)."
                )
            elif not candidate.is_dir():
                problems.append(f"{field}.path: '{cfg['path']}' is a file; give the dataset folder.")
            else:
                root = candidate

    # Options of one reader set on a dataset that uses another reader are a sign of confusion.
    # (`manifest` is left out: the config schema fills it in by default for every dataset.)
    for option, owner in (("pattern", "pattern"), ("depth", "folders")):
        if option in cfg and reader in READERS and reader != owner:
            problems.append(
                f"{field}.{option} applies to the {owner} reader only, but reader is {reader!r}; "
                f"remove it or set {field}.reader: {owner}."
            )

    tasks = cfg.get("tasks") or {}
    problems.extend(_option_problems(name, cfg))
    if cfg.get("metadata") is not None:
        tasks = {}  # label columns may come from the metadata table: checked when indexing
    annotated = [*(cfg.get("derive") or {}), *(["split"] if cfg.get("split_lists") else [])]
    tasks = {task: column for task, column in tasks.items() if column not in annotated}
    if reader == "pattern":
        problems.extend(_pattern_config_problems(name, cfg, tasks))
    elif reader == "folders":
        problems.extend(_folders_config_problems(name, cfg, tasks))
    elif reader == "manifest" and root is not None:
        problems.extend(_manifest_config_problems(name, cfg, tasks, root))
    return problems


def _option_problems(name: str, cfg: dict) -> list[str]:
    """Values of the options every reader shares that can be checked without reading files."""
    problems = []
    if cfg.get("bad_files", default("dataset", "bad_files")) not in BAD_FILES_MODES:
        problems.append(f"datasets.{name}.bad_files: {cfg['bad_files']!r} is not one of {list(BAD_FILES_MODES)}.")
    try:
        parse_folds_from(cfg.get("folds_from"))
    except StudyInputError as error:
        problems.append(f"datasets.{name}.{error}")
    if cfg.get("folds_from") and cfg.get("group_folds"):
        problems.append(
            f"datasets.{name}: group_folds applies to k-fold splits, but folds_from takes the corpus's own "
            "split; remove one of them (`folds_from: false` for k-fold)."
        )
    return problems


def _task_column_problems(name: str, tasks: dict[str, str], columns: list[str], where: str) -> list[str]:
    return [
        f"datasets.{name}.tasks.{task}: label column {column!r} is not among the {where} ({columns})."
        for task, column in tasks.items()
        if column not in columns
    ]


def _pattern_config_problems(name: str, cfg: dict, tasks: dict[str, str]) -> list[str]:
    try:
        regex = compile_pattern(name, cfg.get("pattern"))
    except StudyInputError as error:
        return [str(error)]
    groups = list(regex.groupindex)
    problems = _task_column_problems(name, tasks, groups, "pattern's named groups")
    if _group_to_check(cfg) and cfg["group"] not in groups:
        problems.append(f"datasets.{name}.group: {cfg['group']!r} is not a named group of the pattern ({groups}).")
    return problems


def _group_to_check(cfg: dict) -> bool:
    """A `group` column can be checked at parse time unless an annotation step may provide it."""
    group = cfg.get("group")
    return group is not None and cfg.get("metadata") is None and group not in (cfg.get("derive") or {}) and not (
        cfg.get("split_lists") and group == "split"
    )


def _folders_config_problems(name: str, cfg: dict, tasks: dict[str, str]) -> list[str]:
    problems = _task_column_problems(name, tasks, [FOLDER_LABEL_COLUMN], "folders reader's columns")
    depth = cfg.get("depth", DEFAULT_DEPTH)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        problems.append(f"datasets.{name}.depth must be a whole number >= 1 (got {depth!r}).")
    return problems


def _manifest_config_problems(name: str, cfg: dict, tasks: dict[str, str], root: Path) -> list[str]:
    """Check that the manifest exists and its header has `path` and the task columns."""
    table_path = manifest_file(root, cfg)
    field = f"datasets.{name}.manifest"
    if not table_path.is_file():
        return [f"{field}: manifest file {table_path} does not exist; create it or set the file name."]
    suffix = table_path.suffix.lower()
    if suffix not in MANIFEST_SUFFIXES:
        return [f"{field}: {table_path} has an unknown table format {suffix!r}; use one of {list(MANIFEST_SUFFIXES)}."]
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            columns = list(pq.read_schema(table_path).names)
        elif cfg.get("columns"):
            columns = [str(c) for c in cfg["columns"]]
        else:
            sep = cfg.get("sep") or ("," if suffix == ".csv" else "\t")
            columns = [c.strip() for c in pd.read_csv(table_path, sep=sep, nrows=0, dtype=str).columns]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as error:
        return [f"{table_path}: cannot read the manifest table's header ({error}); fix the file."]
    if "path" not in columns:
        return [f"{table_path}: the manifest has no `path` column (columns: {columns}); add one."]
    labels = [c for c in columns if c not in CONTRACT_COLUMNS]
    problems = _task_column_problems(name, tasks, labels, f"columns of {table_path.name}")
    if _group_to_check(cfg) and cfg["group"] not in labels:
        problems.append(f"datasets.{name}.group: column {cfg['group']!r} is not in {table_path.name} ({labels}).")
    return problems
