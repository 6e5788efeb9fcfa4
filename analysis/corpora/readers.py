"""Index a dataset folder into the manifest contract (`results/datasets/{dataset}/manifest.parquet`).

A *reader* turns a dataset folder into a table of clips: `clip_id` (path relative to the folder,
posix), `path` (absolute) and label columns (str). Readers live in `analysis.corpora.file_readers`,
registered in `READERS` by the name the config's `datasets.<name>.reader` uses; the checks of the
config and of the tasks are in `analysis.corpora.dataset_checks`:

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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.config import default
from analysis.corpora.annotations import (
    MAX_LISTED,
    apply_split_lists,
    derive_columns,
    join_metadata,
    listing_text,
)
from analysis.corpora.audio import AudioInfo, probe_audio
from analysis.corpora.dataset_checks import check_task_columns, check_tasks
from analysis.corpora.file_readers import (
    BAD_FILES_MODES,
    CONTRACT_COLUMNS,
    GROUP_COLUMN,
    READERS,
    ReaderSpec,
    reader_spec,
)
from analysis.corpora.presets import resolve_dataset
from analysis.corpora.tasks import TaskSpec, normalise_task
from analysis.errors import StudyInputError
from analysis.io import write_table

logger = logging.getLogger(__name__)

#: Columns of `results/datasets/{dataset}/skipped.csv`.
SKIPPED_COLUMNS: tuple[str, ...] = ("file", "reason")


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
    bad_files = _bad_files_mode(name, options.get("bad_files", default("dataset", "bad_files")))

    clips = read_clips(root, name, reader, spec, options)
    specs = task_specs(name, tasks)
    check_task_columns(name, clips, specs)
    infos, skipped = probe_clips(clips, bad_files)
    clips = clips[clips["clip_id"].isin(infos)].reset_index(drop=True)
    if clips.empty:
        raise StudyInputError(f"datasets.{name}: none of the audio files under {root} can be read (see {skipped_out}).")
    label_columns = check_tasks(name, clips, specs, n_folds, options.get("folds_from"))

    manifest = _manifest_table(clips, [infos[c] for c in clips["clip_id"]], label_columns)
    manifest["path"] = stored_paths(manifest["path"], path)
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


def add_event_columns(clips: pd.DataFrame, root: Path, name: str, options: dict[str, Any]) -> pd.DataFrame:
    """The `events` column and the activity columns of a detection dataset (corpora.events)."""
    from analysis.corpora.events import derive_activity, join_events

    if options.get("events") is not None:
        clips = join_events(clips, root, name, options["events"])
    if options.get("activity") is not None:
        clips = derive_activity(clips, name, options["activity"])
    return clips


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
    clips = add_event_columns(clips, root, name, options)
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


def stored_paths(paths: pd.Series, dataset_path: str) -> list[str]:
    """The audio paths as the manifest stores them: relative to the working directory (the study
    folder) when the config gives the dataset's folder as a relative path, so that a study folder
    copied or mounted elsewhere reads its manifests unchanged; absolute when the config's is."""
    if Path(dataset_path).expanduser().is_absolute():
        return [str(p) for p in paths]
    return [Path(os.path.relpath(p)).as_posix() for p in paths]


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
            f"({listing_text(clips.loc[empty, 'clip_id'])}); fill it or drop those clips."
        )
    return clips


def _check_unique_clip_ids(name: str, clips: pd.DataFrame) -> None:
    duplicated = clips["clip_id"][clips["clip_id"].duplicated()]
    if not duplicated.empty:
        raise StudyInputError(
            f"datasets.{name}: {len(duplicated)} clips are listed more than once "
            f"({listing_text(duplicated.unique())}); list each file once."
        )


