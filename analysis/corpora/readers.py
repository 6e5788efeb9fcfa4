"""Index a dataset folder into the manifest contract (`results/datasets/{dataset}/manifest.parquet`).

A *reader* turns a dataset folder into a table of clips: `clip_id` (path relative to the folder,
posix), `path` (absolute) and label columns (str). Readers are registered in `READERS` by the name
the config's `datasets.<name>.reader` uses:

- `manifest`: a table (`manifest.csv`, `.tsv` or `.parquet`) with a `path` column and label columns;
- `folders`: the label is a folder name (`depth` levels below the dataset folder), column `label`;
- `pattern`: a regular expression on the relative path, one label column per named group.

`index_dataset` runs the reader, checks the tasks against the labels (column present, at least two
classes, enough clips per class for the folds), reads every file's header, and only then writes the
manifest. Every problem raises `StudyInputError` naming the config field or the file.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.corpora.annotations import apply_split_lists, derive_columns, join_metadata, read_text_table
from analysis.corpora.audio import AUDIO_EXTENSIONS, AudioInfo, probe_audio
from analysis.corpora.listing import list_audio_files
from analysis.corpora.presets import preset_names, resolve_dataset
from analysis.corpora.splits import parse_folds_from, predefined_folds
from analysis.corpora.tasks import TaskSpec, individual_labels, normalise_task, task_labels
from analysis.errors import StudyInputError
from analysis.io import write_table

logger = logging.getLogger(__name__)

#: Columns every manifest has besides the label columns; a label column may not use these names.
CONTRACT_COLUMNS: tuple[str, ...] = ("clip_id", "path", "duration_s", "sample_rate", "channels")
GROUP_COLUMN = "group"
#: Label column the folders reader writes.
FOLDER_LABEL_COLUMN = "label"
DEFAULT_MANIFEST = "manifest.csv"
MANIFEST_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt", ".parquet")
#: Columns of `results/datasets/{dataset}/skipped.csv`.
SKIPPED_COLUMNS: tuple[str, ...] = ("file", "reason")
BAD_FILES_MODES: tuple[str, ...] = ("skip", "fail")
#: How many offending files or rows a message lists before "... and N more".
MAX_LISTED = 5
#: Options every reader accepts.
COMMON_OPTIONS: frozenset[str] = frozenset({"group", "metadata", "derive", "split_lists", "folds_from", "bad_files"})


Reader = Callable[[Path, str, dict[str, Any]], pd.DataFrame]


@dataclass(frozen=True)
class ReaderSpec:
    """A registered reader: the function and the option names it understands."""

    read: Reader
    options: frozenset[str]
    required: frozenset[str] = frozenset()


# Public API ----------------------------------------------------------------------------------------


def index_dataset(
    name: str,
    reader: str,
    path: str,
    tasks: dict[str, dict[str, Any] | str],
    n_folds: int,
    out: str,
    options: dict | None = None,
    skipped_out: str | None = None,
) -> None:
    """Index the dataset folder `path` with `reader` (or a corpus preset) and write the manifest.

    `tasks`: task name -> task spec (`docs/contracts.md`, Tasks; a bare label column is accepted).
    Unreadable or empty audio files are skipped and listed in `skipped_out` (file, reason) when
    `options["bad_files"]` is `skip` (the default), or stop the run when it is `fail`. Nothing is
    written unless every check passes.
    """
    reader, options = resolve_reader(reader, dict(options or {}))
    root = _dataset_root(name, path)
    spec = reader_spec(name, reader)
    options = _reader_options(name, reader, spec, options)
    bad_files = _bad_files_mode(name, options.get("bad_files", "skip"))

    clips = read_clips(root, name, reader, spec, options)
    specs = task_specs(name, tasks)
    _check_task_columns(name, clips, specs)
    infos, skipped = probe_clips(clips, bad_files)
    clips = clips[clips["clip_id"].isin(infos)].reset_index(drop=True)
    if clips.empty:
        raise StudyInputError(f"datasets.{name}: none of the audio files under {root} can be read (see {skipped_out}).")
    label_columns = check_tasks(name, clips, specs, n_folds, options.get("folds_from"))

    manifest = _manifest_table(clips, [infos[c] for c in clips["clip_id"]], label_columns)
    if skipped_out is not None:
        write_table(skipped, skipped_out)
    write_table(manifest, out)
    logger.info(
        "datasets.%s: indexed %d clips (%.1f s of audio) into %s; %d files skipped",
        name, len(manifest), manifest["duration_s"].sum(), out, len(skipped),
    )


def resolve_reader(reader: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A preset name -> its base reader and the preset's reader options under the given ones."""
    resolved = resolve_dataset({"reader": reader, **options})
    base = resolved.pop("reader")
    reader_keys = set(options).union(*(spec.options for spec in READERS.values()))
    return base, {key: value for key, value in resolved.items() if key in reader_keys}


def _bad_files_mode(name: str, mode: Any) -> str:
    if mode not in BAD_FILES_MODES:
        raise StudyInputError(f"datasets.{name}.bad_files: {mode!r} is not one of {list(BAD_FILES_MODES)}.")
    return str(mode)


def read_clips(root: Path, name: str, reader: str, spec: ReaderSpec, options: dict[str, Any]) -> pd.DataFrame:
    """Run the reader, then the annotation steps (split lists, metadata join, derived columns)."""
    clips = spec.read(root, name, options)
    if clips.empty:
        raise StudyInputError(f"datasets.{name}: the {reader} reader found no audio clips under {root}.")
    _check_unique_clip_ids(name, clips)
    if options.get("split_lists") is not None:
        clips = apply_split_lists(clips, root, name, options["split_lists"])
    if options.get("metadata") is not None:
        clips = join_metadata(clips, root, name, options["metadata"])
    if options.get("derive") is not None:
        clips = derive_columns(clips, name, options["derive"])
    return _attach_group(name, clips, options.get("group"))


def task_specs(name: str, tasks: dict[str, dict[str, Any] | str]) -> dict[str, TaskSpec]:
    """Task name -> TaskSpec of the dataset's tasks (`{task: column}` shorthand accepted)."""
    if not tasks:
        raise StudyInputError(f"datasets.{name}.tasks is empty; name at least one task and its label column.")
    specs = {}
    for task, value in tasks.items():
        spec = normalise_task(name, value)
        spec["dataset"] = name
        specs[task] = TaskSpec.from_config(task, spec)
    return specs


def probe_clips(clips: pd.DataFrame, bad_files: str) -> tuple[dict[str, AudioInfo], pd.DataFrame]:
    """clip_id -> header info of the readable clips, and the table (file, reason) of the others.

    With `bad_files == "fail"` any unreadable or empty file raises, all of them listed.
    """
    infos: dict[str, AudioInfo] = {}
    skipped: list[tuple[str, str]] = []
    for clip_id, path in zip(clips["clip_id"], clips["path"]):
        try:
            infos[clip_id] = probe_audio(path)
        except StudyInputError as error:
            skipped.append((str(path), str(error).removeprefix(f"{path}: ")))
    if skipped and bad_files == "fail":
        shown = "\n  ".join(f"{path}: {reason}" for path, reason in skipped[:MAX_LISTED])
        more = f"\n  ... and {len(skipped) - MAX_LISTED} more" if len(skipped) > MAX_LISTED else ""
        raise StudyInputError(
            f"{len(skipped)} of {len(clips)} audio files cannot be used (bad_files: fail):\n  {shown}{more}\n"
            "Replace or remove them, or set the dataset's `bad_files: skip` to leave them out."
        )
    for path, reason in skipped:
        logger.warning("skipped %s: %s", path, reason)
    return infos, pd.DataFrame(skipped, columns=list(SKIPPED_COLUMNS), dtype=str)


def _manifest_table(clips: pd.DataFrame, infos: list[AudioInfo], label_columns: list[str]) -> pd.DataFrame:
    manifest = pd.DataFrame(
        {
            "clip_id": clips["clip_id"].astype(str).to_numpy(),
            "path": clips["path"].astype(str).to_numpy(),
            "duration_s": np.array([info.duration_s for info in infos], dtype=np.float64),
            "sample_rate": np.array([info.sample_rate for info in infos], dtype=np.int64),
            "channels": np.array([info.channels for info in infos], dtype=np.int64),
        }
    )
    for column in label_columns:
        manifest[column] = clips[column].astype(str).to_numpy()
    if GROUP_COLUMN in clips.columns:
        manifest[GROUP_COLUMN] = clips[GROUP_COLUMN].astype(str).to_numpy()
    return manifest.sort_values("clip_id", kind="stable").reset_index(drop=True)


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
        problems.append(f"{field}.reader is missing; set it to one of {_known_readers()}.")
    elif spec is None:
        problems.append(f"{field}.reader: unknown reader {reader!r}; use one of {_known_readers()}.")

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


def reader_spec(name: str, reader: str) -> ReaderSpec:
    """The registered reader called `reader`, or a StudyInputError listing the known ones."""
    try:
        return READERS[reader]
    except KeyError:
        raise StudyInputError(
            f"datasets.{name}.reader: unknown reader {reader!r}; use one of {_known_readers()}."
        ) from None


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
    _check_task_columns(name, clips, tasks)
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


def _check_task_columns(name: str, clips: pd.DataFrame, tasks: dict[str, TaskSpec]) -> None:
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
                f"clips ({_listing(clips.loc[empty, 'clip_id'])}); give every clip a label or drop those clips."
            )


def _check_task(task: TaskSpec, clips: pd.DataFrame, n_folds: int, in_test_folds: pd.Series, predefined: bool) -> None:
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
            f"{len(all_classes)} ({_listing(sorted(all_classes))}); {hint}."
        )
    if len(all_classes) < 2:
        raise StudyInputError(
            f"{task.field}: label column {task.label!r} has a single class{variant} "
            f"({_listing(all_classes)!r}); a classification task needs at least two classes. "
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


# Readers -------------------------------------------------------------------------------------------


def read_manifest(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """A table under the dataset folder with a `path` column (relative to the folder or absolute)."""
    table_path = manifest_file(root, options)
    field = f"datasets.{name}.manifest"
    if not table_path.is_file():
        raise StudyInputError(
            f"{field}: manifest file {table_path} does not exist; create it (a `path` column and one "
            "column per label) or set the file name."
        )
    table = _read_label_table(table_path, field, options.get("sep"), options.get("columns"))
    if "path" not in table.columns:
        raise StudyInputError(
            f"{table_path}: the manifest has no `path` column (columns: {list(table.columns)}); "
            "add a `path` column with each clip's file, relative to the dataset folder."
        )
    reserved = [c for c in table.columns if c in CONTRACT_COLUMNS and c != "path"]
    if reserved:
        logger.warning("%s: ignoring columns %s (the indexer computes them)", table_path, reserved)
        table = table.drop(columns=reserved)

    rel = table["path"].astype(str).str.strip()
    blank = rel == ""
    if blank.any():
        rows = [int(i) + 2 for i in table.index[blank]]
        raise StudyInputError(
            f"{table_path}: the `path` column is empty on lines {_listing(rows)}; fill it or drop those rows."
        )
    absolute = [os.path.abspath(p if os.path.isabs(p) else root / p) for p in rel]
    missing = [p for p in absolute if not os.path.isfile(p)]
    if missing:
        raise StudyInputError(
            f"{table_path}: {len(missing)} listed audio files do not exist ({_listing(missing)}); "
            "fix the `path` values (relative to the dataset folder) or drop those rows."
        )
    clips = table.drop(columns=["path"]).copy()
    clips.insert(0, "path", absolute)
    clips.insert(0, "clip_id", [_clip_id(root, p) for p in absolute])
    return clips.reset_index(drop=True)


def read_folders(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """Label = the folder `depth` levels below the dataset folder (1: the immediate child folder)."""
    depth = options.get("depth", 1)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise StudyInputError(f"datasets.{name}.depth must be a whole number >= 1 (got {depth!r}).")
    files = list_audio_files(root, _extensions(name, options), name)
    rows = []
    shallow: list[str] = []
    for rel in files:
        parts = rel.split("/")
        if len(parts) <= depth:
            shallow.append(rel)
            continue
        rows.append((rel, str(root / rel), parts[depth - 1]))
    if shallow:
        logger.warning(
            "datasets.%s: skipped %d audio files less than %d folders deep (%s)",
            name, len(shallow), depth, _listing(shallow),
        )
    return pd.DataFrame(rows, columns=["clip_id", "path", FOLDER_LABEL_COLUMN])


def read_pattern(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """Labels from a regular expression's named groups, searched in the relative posix path."""
    regex = compile_pattern(name, options.get("pattern"))
    columns = list(regex.groupindex)
    files = list_audio_files(root, _extensions(name, options), name)
    rows = []
    unmatched: list[str] = []
    for rel in files:
        match = regex.search(rel)
        if match is None:
            unmatched.append(rel)
            continue
        labels = match.groupdict()
        empty = [key for key, value in labels.items() if not value]
        if empty:
            raise StudyInputError(
                f"{root / rel}: datasets.{name}.pattern matches this file but group(s) {empty} are empty; "
                "make the groups required or exclude the file."
            )
        rows.append((rel, str(root / rel), *(labels[c] for c in columns)))
    if files and not rows:
        raise StudyInputError(
            f"datasets.{name}.pattern: {regex.pattern!r} matches none of the {len(files)} audio files "
            f"under {root} (e.g. {files[0]!r}); it is searched in the path relative to the dataset folder."
        )
    if unmatched:
        logger.warning(
            "datasets.%s: skipped %d audio files that the pattern does not match (%s)",
            name, len(unmatched), _listing(unmatched),
        )
    return pd.DataFrame(rows, columns=["clip_id", "path", *columns])


READERS: dict[str, ReaderSpec] = {
    "manifest": ReaderSpec(read_manifest, COMMON_OPTIONS | {"manifest", "sep", "columns"}),
    "folders": ReaderSpec(read_folders, COMMON_OPTIONS | {"depth", "extensions"}),
    "pattern": ReaderSpec(read_pattern, COMMON_OPTIONS | {"pattern", "extensions"}, frozenset({"pattern"})),
}


# Helpers -------------------------------------------------------------------------------------------


def manifest_file(root: Path, options: dict[str, Any]) -> Path:
    """The manifest table of a `manifest` dataset: `options["manifest"]` under the folder."""
    return root / str(options.get("manifest") or DEFAULT_MANIFEST)


def compile_pattern(name: str, pattern: Any) -> re.Pattern[str]:
    """Compile `datasets.<name>.pattern`; it needs at least one named group and no reserved names."""
    field = f"datasets.{name}.pattern"
    if not isinstance(pattern, str) or not pattern:
        raise StudyInputError(f"{field} is missing; the pattern reader needs a regular expression.")
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise StudyInputError(f"{field}: {pattern!r} is not a valid regular expression ({error}).") from error
    if not regex.groupindex:
        raise StudyInputError(
            f"{field}: {pattern!r} has no named group; name one group per label column, "
            r"e.g. '(?P<digit>\d)_(?P<speaker>[a-z]+)_\d+\.wav'."
        )
    reserved = [c for c in regex.groupindex if c in CONTRACT_COLUMNS]
    if reserved:
        raise StudyInputError(f"{field}: group names {reserved} are reserved manifest columns; rename them.")
    return regex


def _extensions(name: str, options: dict[str, Any]) -> tuple[str, ...]:
    value = options.get("extensions")
    if value is None:
        return AUDIO_EXTENSIONS
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items or not all(isinstance(e, str) and e for e in items):
        raise StudyInputError(
            f"datasets.{name}.extensions must be a list of file extensions such as ['.wav', '.flac'] "
            f"(got {value!r})."
        )
    return tuple(e.lower() if e.startswith(".") else f".{e.lower()}" for e in items)


def _dataset_root(name: str, path: str) -> Path:
    root = Path(path).expanduser()
    if not root.exists():
        raise StudyInputError(
            f"datasets.{name}.path: folder '{path}' does not exist; fix the path "
            "(relative paths are taken from the working directory)."
        )
    if not root.is_dir():
        raise StudyInputError(f"datasets.{name}.path: '{path}' is a file; give the dataset folder.")
    return root.resolve()


def _reader_options(name: str, reader: str, spec: ReaderSpec, options: dict[str, Any]) -> dict[str, Any]:
    """Drop options meant for other readers (with a note); refuse names no reader knows."""
    all_known = set().union(*(s.options for s in READERS.values()))
    unknown = sorted(set(options) - all_known)
    if unknown:
        raise StudyInputError(
            f"datasets.{name}: unknown reader option(s) {unknown}; the {reader} reader accepts "
            f"{sorted(spec.options)}."
        )
    foreign = sorted(k for k in options if k not in spec.options and options[k] is not None)
    if foreign:
        logger.debug("datasets.%s: options %s do not apply to the %s reader", name, foreign, reader)
    missing = sorted(k for k in spec.required if options.get(k) in (None, ""))
    if missing:
        raise StudyInputError(
            f"datasets.{name}.{missing[0]} is missing; the {reader} reader needs it."
        )
    return {k: v for k, v in options.items() if k in spec.options and v is not None}


def _attach_group(name: str, clips: pd.DataFrame, group: str | None) -> pd.DataFrame:
    """Copy the label column named by `datasets.<name>.group` into `group`."""
    if group is None:
        if GROUP_COLUMN in clips.columns:
            clips = clips.copy()
            clips[GROUP_COLUMN] = clips[GROUP_COLUMN].astype(str)
        return clips
    if group not in clips.columns or group in CONTRACT_COLUMNS:
        columns = [c for c in clips.columns if c not in CONTRACT_COLUMNS]
        raise StudyInputError(
            f"datasets.{name}.group: column {group!r} does not exist; the label columns are {columns}."
        )
    clips = clips.copy()
    clips[GROUP_COLUMN] = clips[group].astype(str)
    empty = clips[GROUP_COLUMN].str.strip() == ""
    if empty.any():
        raise StudyInputError(
            f"datasets.{name}.group: column {group!r} is empty for {int(empty.sum())} clips "
            f"({_listing(clips.loc[empty, 'clip_id'])}); fill it or drop those clips."
        )
    return clips


def _check_unique_clip_ids(name: str, clips: pd.DataFrame) -> None:
    duplicated = clips["clip_id"][clips["clip_id"].duplicated()]
    if not duplicated.empty:
        raise StudyInputError(
            f"datasets.{name}: {len(duplicated)} clips are listed more than once "
            f"({_listing(duplicated.unique())}); list each file once."
        )


def _read_label_table(
    table_path: Path, field: str, sep: str | None = None, columns: list[str] | None = None
) -> pd.DataFrame:
    """Read a manifest table with every column as str (empty cells as '').

    `.txt` and `.tsv` are tab-separated unless `sep` says otherwise; `columns` names the columns of
    a table without a header line (e.g. a DCASE `meta.txt`).
    """
    suffix = table_path.suffix.lower()
    if suffix not in MANIFEST_SUFFIXES:
        raise StudyInputError(
            f"{field}: {table_path} has an unknown table format {suffix!r}; use one of {list(MANIFEST_SUFFIXES)}."
        )
    try:
        if suffix == ".parquet":
            table = pd.read_parquet(table_path)
            return pd.DataFrame({c: _as_text(table[c]) for c in table.columns}, index=table.index)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as error:
        raise StudyInputError(f"{table_path}: cannot read the manifest table ({error}); fix the file.") from error
    return read_text_table(table_path, field, sep, columns)


def _as_text(column: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else str(v) for v in column]


def _clip_id(root: Path, absolute: str) -> str:
    """The path relative to the dataset folder (posix), or the absolute path for files outside it."""
    try:
        return Path(absolute).relative_to(root).as_posix()
    except ValueError:
        return Path(absolute).as_posix()


def _listing(items: Iterable[Any]) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:MAX_LISTED])
    return shown + (f", ... and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _known_readers() -> list[str]:
    """The generic readers, then the corpus presets."""
    return sorted(READERS) + preset_names()


# Parse-time checks per reader ----------------------------------------------------------------------


def _option_problems(name: str, cfg: dict) -> list[str]:
    """Values of the options every reader shares that can be checked without reading files."""
    problems = []
    if cfg.get("bad_files", "skip") not in BAD_FILES_MODES:
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
    depth = cfg.get("depth", 1)
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
