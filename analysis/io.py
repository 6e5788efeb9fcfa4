"""Atomic writers for the tables and files that stages exchange.

A job that fails half-way must leave nothing half-written: every writer here writes to a temporary
file in the destination folder and moves it into place with `os.replace`, which is atomic on POSIX.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it onto `path` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.chmod(0o666 & ~_current_umask())  # mkstemp creates 0600; outputs are ordinary files
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_table(table: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a table as parquet, or CSV when the path ends in `.csv`."""
    with atomic_path(path) as tmp:
        if str(path).endswith(".csv"):
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table written by `write_table`."""
    return pd.read_csv(path) if str(path).endswith(".csv") else pd.read_parquet(path)


def write_json(obj: Any, path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_array(array: np.ndarray, path: str | os.PathLike) -> None:
    """Write an `.npy` file that `np.load(path, mmap_mode="r")` can map."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, array)
