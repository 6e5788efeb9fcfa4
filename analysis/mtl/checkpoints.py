"""Per-run checkpoints: save after every epoch, resume the unfinished run, skip finished ones.

A checkpoint carries a fingerprint of everything the run depends on (tasks, model, training, the
identity of every input file); one whose fingerprint differs from the current one is ignored.
A checkpoint is written to a temporary file, flushed to disk and moved into place, so a job killed
while saving leaves the previous checkpoint whole; such a temporary file is removed by `clear`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch

from analysis.io import atomic_path

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1


def file_identity(path: str) -> dict[str, Any]:
    """Absolute path, size and modification time of an input file."""
    stat = os.stat(path)
    return {"path": os.path.abspath(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def run_fingerprint(
    tasks: Mapping, model: Mapping, training: Mapping, input_paths: Iterable[str]
) -> str:
    """SHA-256 of the configuration and the identities of the input files."""
    payload = {
        "format": FORMAT_VERSION,
        "tasks": tasks,
        "model": model,
        "training": training,
        "inputs": [file_identity(p) for p in sorted(set(input_paths))],
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CheckpointStore:
    """Checkpoints of the (fold, seed) runs of one model, in one folder."""

    def __init__(self, directory: str | os.PathLike, fingerprint: str) -> None:
        self.directory = Path(directory)
        self.fingerprint = fingerprint

    def path(self, fold: int, seed: int) -> Path:
        return self.directory / f"fold{fold}_seed{seed}.pt"

    def save(self, fold: int, seed: int, state: dict[str, Any]) -> None:
        payload = {"fingerprint": self.fingerprint, "fold": fold, "seed": seed, "state": state}
        with atomic_path(self.path(fold, seed)) as tmp:
            with open(tmp, "wb") as handle:
                torch.save(payload, handle)
                handle.flush()
                os.fsync(handle.fileno())

    def load(self, fold: int, seed: int) -> dict[str, Any] | None:
        """The saved state of run (fold, seed), or None if absent, unreadable or stale."""
        path = self.path(fold, seed)
        if not path.exists():
            return None
        try:
            payload = torch.load(path, weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
            logger.warning("ignoring unreadable checkpoint %s: %s", path, error)
            return None
        if payload.get("fingerprint") != self.fingerprint:
            logger.info("ignoring checkpoint %s: inputs or configuration changed", path)
            return None
        return payload["state"]

    def clear(self, runs: Iterable[tuple[int, int]]) -> None:
        """Delete the checkpoints of `runs`, and the folder if nothing else is left in it."""
        for fold, seed in runs:
            path = self.path(fold, seed)
            path.unlink(missing_ok=True)
            for stale in self.directory.glob(f".{path.name}.*"):  # left by a job killed saving
                stale.unlink(missing_ok=True)
        if self.directory.is_dir() and not any(self.directory.iterdir()):
            self.directory.rmdir()
