"""Strong labels: an annotation table of events per dataset, and activity columns derived from it.

Config keys of `datasets.<name>` (applied after `derive`):

- `events`: the annotation table, relative to the dataset folder, in the DCASE format: tab-separated
  `filename`, `onset`, `offset`, `event_label` (seconds), with a header line. A file is matched to
  a clip by its path relative to the dataset folder, else by its base name. The manifest gets an
  `events` column: the clip's events as JSON `[[onset, offset, label], ...]` sorted by onset
  (`[]` for a clip without events), the label column of a `type: detection` task.
- `activity`: `{column: {classes: {class: [event labels]}, default}}`: a clip-level column, the
  class whose events cover the most time in the clip (`"*"` matches any label), else `default`:
  voice activity, event activity (any event vs none) or music / speech / neither, so the
  detection dataset yields classification tasks that pair with any task.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import StudyInputError

EVENTS_COLUMN = "events"
TABLE_COLUMNS = ("filename", "onset", "offset", "event_label")
ANY_LABEL = "*"


def _bad_line(path: Path, line: int, problem: str) -> StudyInputError:
    return StudyInputError(
        f"{path}, line {line}: {problem}. An annotation table is tab-separated with the header "
        f"{' '.join(TABLE_COLUMNS)}, one event per line, onset < offset in seconds; fix the line."
    )


def read_event_table(path: str | Path) -> pd.DataFrame:
    """The annotation table (filename, onset, offset, event_label), every line checked."""
    path = Path(path)
    if not path.is_file():
        raise StudyInputError(f"annotation table {path} does not exist; check `events` of the dataset.")
    lines = path.read_text().splitlines()
    header = lines[0].split("\t") if lines else []
    if tuple(h.strip() for h in header) != TABLE_COLUMNS:
        raise _bad_line(path, 1, f"the header is {header!r}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        rows.append(_parse_line(path, number, line))
    return pd.DataFrame(rows, columns=[*TABLE_COLUMNS, "line"])


def _parse_line(path: Path, number: int, line: str) -> tuple[str, float, float, str, int]:
    fields = line.split("\t")
    if len(fields) != len(TABLE_COLUMNS):
        raise _bad_line(path, number, f"{len(fields)} tab-separated fields, expected 4")
    filename, onset, offset, label = (f.strip() for f in fields)
    if filename and not (onset or offset or label):  # DESED: a clip annotated with no event
        return filename, math.nan, math.nan, "", number
    try:
        start, end = float(onset), float(offset)
    except ValueError:
        raise _bad_line(path, number, f"onset {onset!r} or offset {offset!r} is not a number") from None
    if not 0 <= start < end:
        raise _bad_line(path, number, f"onset {start} and offset {end} need 0 <= onset < offset")
    if not filename or not label:
        raise _bad_line(path, number, "an empty filename or event label")
    return filename, start, end, label, number


def _clip_keys(clips: pd.DataFrame, root: Path) -> dict[str, int]:
    """Relative path and base name of every clip -> its row (base names only where unique)."""
    keys: dict[str, int] = {}
    names = clips["path"].map(lambda p: Path(p).name)
    unique_names = names[~names.duplicated(keep=False)]
    for row, name in unique_names.items():
        keys[name] = row
    for row, path in clips["path"].items():
        full = Path(path)
        relative = full.relative_to(root) if full.is_absolute() and full.is_relative_to(root) else full
        keys[relative.as_posix()] = row
    return keys


def join_events(clips: pd.DataFrame, root: Path, name: str, table: str) -> pd.DataFrame:
    """Add the `events` column (JSON per clip) from the annotation table `table`."""
    path = root / table
    events = read_event_table(path)
    keys = _clip_keys(clips, root)
    per_clip: dict[int, list[list[Any]]] = {row: [] for row in clips.index}
    for event in events.itertuples(index=False):
        row = keys.get(event.filename, keys.get(Path(event.filename).name))
        if row is None:
            raise _bad_line(path, event.line, f"{event.filename!r} is no audio file of datasets.{name}")
        if event.event_label:  # a line without an event only says the clip was annotated
            per_clip[row].append([event.onset, event.offset, event.event_label])
    clips = clips.copy()
    clips[EVENTS_COLUMN] = [json.dumps(sorted(per_clip[row])) for row in clips.index]
    return clips


def parse_events(value: str) -> list[tuple[float, float, str]]:
    """A manifest `events` value -> [(onset, offset, label)]."""
    return [(float(a), float(b), str(c)) for a, b, c in json.loads(value)]


def activity_class(events: list[tuple[float, float, str]], classes: dict[str, list[str]],
                   default: str) -> str:
    """The class whose events last longest in the clip, else `default`."""
    totals = {}
    for name, labels in classes.items():
        matches = [b - a for a, b, label in events if ANY_LABEL in labels or label in labels]
        if matches:
            totals[name] = sum(matches)
    return max(totals, key=lambda c: (totals[c], c)) if totals else default


def derive_activity(clips: pd.DataFrame, name: str, activity: dict[str, Any]) -> pd.DataFrame:
    """Add one clip-level column per `activity` entry (module docstring)."""
    if EVENTS_COLUMN not in clips.columns:
        raise StudyInputError(f"datasets.{name}.activity needs `events` (the annotation table).")
    clips = clips.copy()
    events = clips[EVENTS_COLUMN].map(parse_events)
    for column, rule in activity.items():
        classes = {str(k): [str(v) for v in values] for k, values in rule["classes"].items()}
        default = str(rule.get("default", "none"))
        clips[column] = events.map(lambda e, c=classes, d=default: activity_class(e, c, d))
    return clips
