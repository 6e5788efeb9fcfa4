"""Which audio files a dataset folder holds, and a cheap fingerprint of them and of its tables.

`list_audio_files` walks a dataset folder once per real folder: a symbolic link back into the
folder (or to a folder already walked) is not followed, a link out of it is followed once, and a
file reached twice (through links) is listed once, under its first path, with a count in the log.

`dataset_fingerprint` hashes the (path, size, modification time) of every audio file and of every
table the reader reads (manifest, metadata, split lists). The workflow passes it to the indexing job
as a parameter, so that adding, removing or replacing a file reruns the indexing, and nothing else
does. It stats files; it reads none. `file_digest` is the content hash of an indexed manifest: the
jobs that read a manifest take it as a parameter (and the manifest as an `ancient` input), so that
they rerun when its content changes, not when indexing rewrites the same content.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from analysis.corpora.audio import AUDIO_EXTENSIONS

logger = logging.getLogger(__name__)

# Defaults of options that only one reader reads: not schema defaults, because Snakemake would fill
# them into every dataset (where the other readers refuse them) and over a corpus preset's value.
DEFAULT_MANIFEST = "manifest.csv"  # the manifest reader's table
DEFAULT_DEPTH = 1  # the folders reader's label level: the immediate child folder


def list_audio_files(root: Path, extensions: Iterable[str], name: str | None = None) -> list[str]:
    """Relative posix paths of the audio files under `root`, sorted; hidden files and folders skipped.

    Each real folder is walked once and each real file listed once: links back into `root` (loops)
    and second links to one folder or file are dropped, and the count is logged.
    """
    return sorted(_walk(Path(root), tuple(e.lower() for e in extensions), name))


def _walk(root: Path, wanted: tuple[str, ...], name: str | None, log: bool = True) -> dict[str, str]:
    """rel path -> real path of the audio files under root, each real file once (`log`: say how
    many were left out; the indexing job does, the fingerprint taken on every run does not)."""
    seen_dirs: set[str] = set()
    real_files: dict[str, str] = {}  # real path -> rel path
    linked_dirs: list[tuple[Path, str]] = []  # (absolute link, rel path), followed after the real tree
    linked_files: list[tuple[Path, str]] = []
    duplicates = 0

    def walk_tree(top: Path, rel_top: str) -> None:
        nonlocal duplicates
        for folder, dirs, files in os.walk(top):  # does not descend into links: they are queued
            real = os.path.realpath(folder)
            if real in seen_dirs:
                dirs[:] = []
                continue
            seen_dirs.add(real)
            rel_folder = Path(rel_top) / Path(folder).relative_to(top)
            for d in sorted(d for d in dirs if not d.startswith(".")):
                if os.path.islink(os.path.join(folder, d)):
                    linked_dirs.append((Path(folder) / d, (rel_folder / d).as_posix()))
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(folder, d)))
            for file_name in sorted(files):
                if file_name.startswith(".") or not file_name.lower().endswith(wanted):
                    continue
                path = Path(folder) / file_name
                rel = (rel_folder / file_name).as_posix()
                if os.path.islink(path):
                    linked_files.append((path, rel))
                    continue
                real_files.setdefault(os.path.realpath(path), rel)

    walk_tree(root, ".")
    while linked_dirs or linked_files:
        if linked_files:
            path, rel = linked_files.pop(0)
            real = os.path.realpath(path)
            if not os.path.isfile(real):
                if log:
                    logger.warning("%s: broken link skipped", path)
            elif real in real_files:
                duplicates += 1
            else:
                real_files[real] = rel
            continue
        path, rel = linked_dirs.pop(0)
        real = os.path.realpath(path)
        if real in seen_dirs or _inside(real, seen_dirs) or not os.path.isdir(real):
            duplicates += _count_files(real, wanted) if os.path.isdir(real) else 0
            continue
        walk_tree(Path(real), rel)
    if duplicates and log:
        logger.warning(
            "%s: %d audio files reached a second time through symbolic links were left out "
            "(links back into the dataset folder or to a folder already listed are not followed)",
            f"datasets.{name}" if name else root, duplicates,
        )
    return {rel.removeprefix("./"): real for real, rel in real_files.items()}


def _inside(real: str, folders: set[str]) -> bool:
    """`real` is one of `folders` or inside one of them."""
    parent = real
    while True:
        if parent in folders:
            return True
        up = os.path.dirname(parent)
        if up == parent:
            return False
        parent = up


def _count_files(real: str, wanted: tuple[str, ...]) -> int:
    """Audio files directly or indirectly under a real folder (links not followed)."""
    return sum(
        1 for _, _, files in os.walk(real) for f in files if not f.startswith(".") and f.lower().endswith(wanted)
    )


# Fingerprints --------------------------------------------------------------------------------------


def file_digest(path: str) -> str:
    """sha256 of a file's content ("" when it does not exist yet), cached by size and mtime."""
    try:
        stat = os.stat(path)
    except OSError:
        return ""
    return _digest(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()



def dataset_fingerprint(path: str, options: dict[str, Any]) -> str:
    """A hash of the (path, size, modification time) of a dataset's audio files and tables.

    `options` are the dataset's reader options (preset filled in). A folder that does not exist yet
    (a demo corpus rendered by a job) gives "".
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        return ""
    digest = hashlib.sha256()
    extensions = _extensions(options.get("extensions"))
    for rel, real in sorted(_walk(root, extensions, None, log=False).items()):
        _add(digest, rel, real)
    for table in sorted(_tables(root, options)):
        _add(digest, table, table)
    return digest.hexdigest()


def _add(digest: Any, label: str, real: str) -> None:
    try:
        stat = os.stat(real)
        digest.update(f"{label}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    except OSError:
        digest.update(f"{label}\tmissing\n".encode())


def _tables(root: Path, options: dict[str, Any]) -> set[str]:
    """The tables the reader and the annotation steps read (manifest, metadata, split lists)."""
    tables = set()
    if options.get("manifest") is not None or options.get("reader") == "manifest":
        tables.add(str(root / str(options.get("manifest") or DEFAULT_MANIFEST)))
    metadata = options.get("metadata")
    if isinstance(metadata, dict) and metadata.get("path"):
        pattern = str(root / str(metadata["path"]))
        tables.update(glob.glob(pattern) if glob.has_magic(pattern) else [pattern])
    for list_file in (options.get("split_lists") or {}).values() if isinstance(options.get("split_lists"), dict) else ():
        tables.add(str(root / str(list_file)))
    return tables


def _extensions(value: Any) -> tuple[str, ...]:
    if value is None:
        return AUDIO_EXTENSIONS
    items = [value] if isinstance(value, str) else list(value)
    return tuple(str(e).lower() if str(e).startswith(".") else f".{str(e).lower()}" for e in items)
