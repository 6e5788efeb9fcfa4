"""Label columns that come from beside the audio files rather than from their paths.

Each step takes the clips table a reader produced (`clip_id`, `path`, label columns) and adds
columns; every reader and corpus preset can use them (config keys of `datasets.<name>`):

- `metadata`: join a table (CSV, TSV, whitespace-free text, parquet or JSON) on one label column,
  e.g. speaker -> gender and accent, or an ESC-50 file name -> class and fold;
- `split_lists`: `{value: list file}`: column `split` holds `value` for each file a list names and
  `train` for the others (Speech Commands' `testing_list.txt`, TUT's `fold1_evaluate.txt`);
- `derive`: `{column: {from, values, default}}`: a column mapped from another, e.g. RAVDESS emotion
  codes to names, or an actor number to the actor's sex.
"""

from __future__ import annotations

import glob
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

SPLIT_COLUMN = "split"
#: Value of `split` for a file that no list of `split_lists` names.
UNLISTED_SPLIT = "train"
TABLE_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".txt", ".parquet", ".json")
METADATA_KEYS = frozenset({"path", "on", "key", "sep", "comment", "columns"})
MAX_LISTED = 5


# Tables ------------------------------------------------------------------------------------------


def read_text_table(
    path: Path, field: str, sep: str | None = None, columns: list[str] | None = None, comment: str | None = None
) -> pd.DataFrame:
    """A delimited text table as str columns ('' for empty cells).

    With `columns` the file has no header: each line is split into at most `len(columns)` fields
    (the last field keeps any further separators, e.g. a speaker name with a '|' in it).
    """
    suffix = path.suffix.lower()
    sep = sep or ("," if suffix == ".csv" else "\t")
    if columns is None:
        try:
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True,
                               comment=comment).rename(columns=str.strip)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as error:
            raise StudyInputError(f"{path}: cannot read this table for {field} ({error}); fix the file.") from error
    rows = []
    for line in _lines(path, field, comment):
        parts = [part.strip() for part in line.split(sep, len(columns) - 1)]
        rows.append(parts + [""] * (len(columns) - len(parts)))
    return pd.DataFrame(rows, columns=list(columns), dtype=str)


def read_any_table(path: Path, field: str, options: dict[str, Any]) -> pd.DataFrame:
    """CSV / TSV / text (`sep`, `columns`, `comment`), parquet or JSON, every cell as str."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = pd.read_parquet(path)
    elif suffix == ".json":
        table = _read_json_table(path, field, options.get("key") or options.get("on"))
    else:
        return read_text_table(path, field, options.get("sep"), options.get("columns"), options.get("comment"))
    return pd.DataFrame({str(c): [as_text(v) for v in table[c]] for c in table.columns})


def as_text(value: Any) -> str:
    """A cell as a label string: lists joined with ';' (multilabel), missing values as ''."""
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _read_json_table(path: Path, field: str, key: str | None) -> pd.DataFrame:
    """A list of records, or a dict id -> record (NSynth's examples.json); the id fills `key`."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StudyInputError(f"{path}: cannot read this JSON table for {field} ({error}); fix the file.") from error
    if isinstance(data, dict) and all(isinstance(r, dict) for r in data.values()):
        records = [{key or "id": name, **record} for name, record in data.items()]  # a record's own key wins
    else:
        records = data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise StudyInputError(
            f"{path}: {field} needs a JSON list of objects or an object of objects (one per clip or key)."
        )
    return pd.DataFrame.from_records(records)


def _lines(path: Path, field: str, comment: str | None) -> Iterable[str]:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise StudyInputError(f"{path}: cannot read this file for {field} ({error}).") from error
    for line in text.splitlines():
        if line.strip() and not (comment and line.lstrip().startswith(comment)):
            yield line.rstrip("\r\n")


# Metadata join -----------------------------------------------------------------------------------


def join_metadata(clips: pd.DataFrame, root: Path, name: str, spec: dict[str, Any]) -> pd.DataFrame:
    """Left-join the metadata table(s) of `spec` on `spec["on"]`; the clips' own columns win."""
    field = f"datasets.{name}.metadata"
    spec = check_metadata_spec(field, spec)
    on, key = spec["on"], spec.get("key") or spec["on"]
    if on not in clips.columns:
        raise StudyInputError(
            f"{field}.on: {on!r} is not a column of the clips (columns: {_labels(clips)}); "
            "name the label column (e.g. a pattern group) to join on."
        )
    table = _metadata_table(root, field, spec)
    if key not in table.columns:
        raise StudyInputError(f"{field}.key: column {key!r} is not in the metadata table (columns: {list(table.columns)}).")
    table = table.drop_duplicates().rename(columns={key: on})
    duplicated = table[on][table[on].duplicated()]
    if not duplicated.empty:
        raise StudyInputError(
            f"{field}: the metadata has several rows for {on} {listing_text(duplicated.unique())}; keep one row per value."
        )
    table = table[[on, *[c for c in table.columns if c not in clips.columns]]]
    joined = clips.merge(table, on=on, how="left", validate="many_to_one")
    unmatched = clips[on][~clips[on].isin(table[on])]
    if not unmatched.empty:
        logger.warning("%s: no metadata row for %d clips (%s = %s); their metadata columns are empty",
                       field, len(unmatched), on, listing_text(unmatched.unique()))
    added = [c for c in table.columns if c != on]
    joined[added] = joined[added].fillna("")
    return joined


def check_metadata_spec(field: str, spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict) or not spec.get("path") or not spec.get("on"):
        raise StudyInputError(f"{field} needs `path` (the table, relative to the dataset folder) and `on` (a label column).")
    unknown = sorted(set(spec) - METADATA_KEYS)
    if unknown:
        raise StudyInputError(f"{field}: unknown key(s) {unknown}; known: {sorted(METADATA_KEYS)}.")
    return spec


def _metadata_table(root: Path, field: str, spec: dict[str, Any]) -> pd.DataFrame:
    pattern = str(spec["path"])
    files = sorted(glob.glob(str(root / pattern))) if glob.has_magic(pattern) else [str(root / pattern)]
    files = [Path(f) for f in files if Path(f).is_file()]
    if not files:
        raise StudyInputError(f"{field}.path: no file {root / pattern}; fix the path (relative to the dataset folder).")
    for path in files:
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise StudyInputError(f"{field}.path: {path} has an unknown table format; use one of {list(TABLE_SUFFIXES)}.")
    return pd.concat([read_any_table(path, field, spec) for path in files], ignore_index=True).fillna("")


# Split lists -------------------------------------------------------------------------------------


def apply_split_lists(clips: pd.DataFrame, root: Path, name: str, lists: dict[str, str]) -> pd.DataFrame:
    """Column `split`: the key of the list that names each clip, `train` for unlisted clips."""
    field = f"datasets.{name}.split_lists"
    if not isinstance(lists, dict) or not lists:
        raise StudyInputError(f"{field} must map a split name to a list file, e.g. {{test: testing_list.txt}}.")
    split = pd.Series(UNLISTED_SPLIT, index=clips.index, dtype=object)
    by_id = pd.Series(clips.index, index=clips["clip_id"])
    for value, list_file in lists.items():
        entries = _list_entries(root / str(list_file), f"{field}.{value}")
        present = [e for e in entries if e in by_id.index]
        absent = [e for e in entries if e not in by_id.index]
        if absent:
            logger.warning("%s.%s: %d of %d entries of %s name no clip of the dataset and are skipped (%s)",
                           field, value, len(absent), len(entries), list_file, listing_text(absent))
        rows = by_id[present].to_numpy()
        twice = split[rows][split[rows] != UNLISTED_SPLIT]
        if not twice.empty:
            raise StudyInputError(
                f"{field}: {list_file} lists clips that another list names too "
                f"({listing_text(clips.loc[twice.index, 'clip_id'])}); a clip belongs to one split."
            )
        split[rows] = str(value)
    clips = clips.copy()
    clips[SPLIT_COLUMN] = split.to_numpy()
    logger.info("%s: %s", field, clips[SPLIT_COLUMN].value_counts().to_dict())
    return clips


def _list_entries(path: Path, field: str) -> list[str]:
    """The relative paths a list file names: first tab-separated field of each line."""
    if not path.is_file():
        raise StudyInputError(f"{field}: list file {path} does not exist; fix the name (relative to the dataset folder).")
    entries = [line.split("\t")[0].strip().replace("\\", "/") for line in _lines(path, field, "#")]
    return [e[2:] if e.startswith("./") else e for e in entries]


# Derived columns ---------------------------------------------------------------------------------


def derive_columns(clips: pd.DataFrame, name: str, derive: dict[str, Any]) -> pd.DataFrame:
    """Add or rewrite columns by value maps: `{column: {from: source, values: {raw: new}, default}}`.

    Without `default`, a value the map does not name is kept as it is.
    """
    clips = clips.copy()
    for column, rule in derive.items():
        field = f"datasets.{name}.derive.{column}"
        if not isinstance(rule, dict) or not isinstance(rule.get("values"), dict):
            raise StudyInputError(f"{field} needs `values` (a map from the source's values to the new ones).")
        source = rule.get("from", column)
        if source not in clips.columns:
            raise StudyInputError(f"{field}.from: {source!r} is not a column of the clips ({_labels(clips)}).")
        mapping = {str(k): str(v) for k, v in rule["values"].items()}
        values = clips[source].astype(str)
        _warn_unmatched_keys(field, source, list(rule["values"]), values)
        default = values if rule.get("default") is None else pd.Series(str(rule["default"]), index=values.index)
        clips[column] = values.map(mapping).where(values.isin(list(mapping)), default)
    return clips


def _warn_unmatched_keys(field: str, source: str, keys: list[Any], values: pd.Series) -> None:
    """Labels are compared as text: a `values` key naming no label is most often a YAML number
    (`03:` is read as 3), so say so."""
    present = set(values.str.strip())
    unmatched = [key for key in keys if str(key) not in present]
    if not unmatched:
        return
    numeric = [key for key in unmatched if isinstance(key, (int, float)) and not isinstance(key, bool)]
    hint = (
        f"; YAML reads unquoted keys such as 03 as the number {numeric[0]}: quote them ('03': ...)"
        if numeric else ""
    )
    logger.warning(
        "%s.values: key(s) %s match no value of column %r (values: %s)%s",
        field, listing_text(unmatched), source, listing_text(sorted(present)), hint,
    )


def _labels(clips: pd.DataFrame) -> list[str]:
    return [c for c in clips.columns if c not in ("clip_id", "path")]


def listing_text(items: Iterable[Any]) -> str:
    """The first MAX_LISTED items, then how many more: for messages naming offending files."""
    items = list(items)
    shown = ", ".join(str(i) for i in items[:MAX_LISTED])
    return shown + (f", ... and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")
