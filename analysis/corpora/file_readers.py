"""The generic readers (`manifest`, `folders`, `pattern`) and their registry, `READERS`.

A reader turns a dataset folder into a table of clips: `clip_id` (path relative to the folder,
posix), `path` (absolute) and label columns (str). A new reader is a function
`read_X(root, name, options) -> clips` registered in `READERS` with the option names it accepts.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.corpora.annotations import (
    listing_text,
    read_text_table,
)
from analysis.corpora.audio import AUDIO_EXTENSIONS
from analysis.corpora.listing import DEFAULT_DEPTH, DEFAULT_MANIFEST, list_audio_files
from analysis.corpora.presets import preset_names
from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

#: Columns every manifest has besides the label columns; a label column may not use these names.
CONTRACT_COLUMNS: tuple[str, ...] = ("clip_id", "path", "duration_s", "sample_rate", "channels")
GROUP_COLUMN = "group"
BAD_FILES_MODES: tuple[str, ...] = ("skip", "fail")


#: Label column the folders reader writes.
FOLDER_LABEL_COLUMN = "label"




MANIFEST_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt", ".parquet")


#: Options every reader accepts.
COMMON_OPTIONS: frozenset[str] = frozenset({"group", "metadata", "derive", "split_lists", "folds_from", "bad_files", "events", "activity"})


Reader = Callable[[Path, str, dict[str, Any]], pd.DataFrame]


@dataclass(frozen=True)
class ReaderSpec:
    """A registered reader: the function and the option names it understands."""

    read: Reader
    options: frozenset[str]
    required: frozenset[str] = frozenset()


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
            f"{table_path}: the `path` column is empty on lines {listing_text(rows)}; fill it or drop those rows."
        )
    absolute = [os.path.abspath(p if os.path.isabs(p) else root / p) for p in rel]
    missing = [p for p in absolute if not os.path.isfile(p)]
    if missing:
        raise StudyInputError(
            f"{table_path}: {len(missing)} listed audio files do not exist ({listing_text(missing)}); "
            "fix the `path` values (relative to the dataset folder) or drop those rows."
        )
    clips = table.drop(columns=["path"]).copy()
    clips.insert(0, "path", absolute)
    clips.insert(0, "clip_id", [_clip_id(root, p) for p in absolute])
    return clips.reset_index(drop=True)


def read_folders(root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """Label = the folder `depth` levels below the dataset folder (1: the immediate child folder)."""
    depth = options.get("depth", DEFAULT_DEPTH)
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
            name, len(shallow), depth, listing_text(shallow),
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
            name, len(unmatched), listing_text(unmatched),
        )
    return pd.DataFrame(rows, columns=["clip_id", "path", *columns])


READERS: dict[str, ReaderSpec] = {
    "manifest": ReaderSpec(read_manifest, COMMON_OPTIONS | {"manifest", "sep", "columns"}),
    "folders": ReaderSpec(read_folders, COMMON_OPTIONS | {"depth", "extensions"}),
    "pattern": ReaderSpec(read_pattern, COMMON_OPTIONS | {"pattern", "extensions"}, frozenset({"pattern"})),
}


def reader_spec(name: str, reader: str) -> ReaderSpec:
    """The registered reader called `reader`, or a StudyInputError listing the known ones."""
    try:
        return READERS[reader]
    except KeyError:
        raise StudyInputError(
            f"datasets.{name}.reader: unknown reader {reader!r}; use one of {known_readers()}."
        ) from None


def known_readers() -> list[str]:
    """The generic readers, then the corpus presets."""
    return sorted(READERS) + preset_names()


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


