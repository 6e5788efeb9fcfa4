"""Per-run checkpoints on a schedule: resume the unfinished run, skip finished ones.

A run that finishes leaves its records (`fold<F>_seed<S>.finished.json`, a few kB) in place of its
training checkpoint, so a job stopped after that (a time limit in a later run) does not train it again.

A checkpoint carries a fingerprint of everything the run depends on (tasks, model, training, the
content of every input file, by size and SHA-256; not its path or modification time, so a study
folder moved or mounted elsewhere still resumes); one whose fingerprint differs is ignored.

`Checkpointer` decides when to save: after an epoch, once `every_epochs` epochs or `every_seconds`
seconds have passed since the last save (whichever comes first), and at the next epoch end after
the process receives SIGTERM (a SLURM time limit, `scancel`), after which it exits. A checkpoint is
an intermediate file: it is written to a temporary file and renamed into place (atomic, so a job
killed while saving leaves the previous checkpoint whole) but not fsynced; `clear` removes the
checkpoints and such temporary files once the model's outputs are written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from analysis.config import section
from analysis.io import atomic_path

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
HASH_CHUNK = 4 * 2**20


def file_identity(path: str) -> dict[str, Any]:
    """Size and SHA-256 of an input file's content (not its path or modification time)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def run_fingerprint(
    tasks: Mapping, model: Mapping, training: Mapping, inputs: Mapping[str, str]
) -> str:
    """SHA-256 of the configuration and the content of the input files, keyed by their role
    (e.g. `words/features`), so the same files under another folder give the same fingerprint."""
    payload = {
        "format": FORMAT_VERSION,
        "tasks": tasks,
        "model": model,
        "training": training,
        "inputs": {role: file_identity(path) for role, path in sorted(inputs.items())},
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CheckpointStore:
    """Checkpoints of the (fold, seed) runs of one model, in one folder. The fingerprint is a
    function called on first use, so a job that neither finds nor writes a checkpoint never
    hashes its inputs."""

    def __init__(self, directory: str | os.PathLike, fingerprint: str | Callable[[], str]) -> None:
        self.directory = Path(directory)
        self._fingerprint = fingerprint

    @property
    def fingerprint(self) -> str:
        if callable(self._fingerprint):
            self._fingerprint = self._fingerprint()
        return self._fingerprint

    def path(self, fold: int, seed: int) -> Path:
        return self.directory / f"fold{fold}_seed{seed}.pt"

    def finished_path(self, fold: int, seed: int) -> Path:
        return self.directory / f"fold{fold}_seed{seed}.finished.json"

    def save_finished(self, fold: int, seed: int, records: dict[str, Any]) -> None:
        """The records of a finished run (a few kB of JSON); its training checkpoint goes."""
        payload = {"fingerprint": self.fingerprint, "fold": fold, "seed": seed, "records": records}
        with atomic_path(self.finished_path(fold, seed)) as tmp:
            tmp.write_text(json.dumps(payload))
        self.path(fold, seed).unlink(missing_ok=True)

    def load_finished(self, fold: int, seed: int) -> dict[str, Any] | None:
        """The records of run (fold, seed) if it finished in an earlier attempt with the same
        fingerprint, else None."""
        path = self.finished_path(fold, seed)
        if not path.exists():
            return None
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            logger.warning("ignoring unreadable record %s: %s", path, error)
            return None
        return payload["records"] if payload.get("fingerprint") == self.fingerprint else None

    def save(self, fold: int, seed: int, state: dict[str, Any]) -> None:
        payload = {"fingerprint": self.fingerprint, "fold": fold, "seed": seed, "state": state}
        with atomic_path(self.path(fold, seed)) as tmp:
            torch.save(payload, tmp)

    def load(self, fold: int, seed: int) -> dict[str, Any] | None:
        """The saved state of run (fold, seed), or None if absent, unreadable or stale."""
        path = self.path(fold, seed)
        if not path.exists():
            return None
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
            logger.warning("ignoring unreadable checkpoint %s: %s", path, error)
            return None
        if payload.get("fingerprint") != self.fingerprint:
            logger.info("ignoring checkpoint %s: inputs or configuration changed", path)
            return None
        return payload["state"]

    def clear(self, runs: Iterable[tuple[int, int]]) -> None:
        """Delete the training checkpoints of `runs` (and temporary files of a job killed while
        saving). The finished runs' records stay: a job stopped after writing its tables but
        before Snakemake registered them (a time limit) has its tables deleted by Snakemake, and
        its rerun rebuilds them from those records instead of training again."""
        for fold, seed in runs:
            self.path(fold, seed).unlink(missing_ok=True)
            for name in (self.path(fold, seed).name, self.finished_path(fold, seed).name):
                for stale in self.directory.glob(f".{name}.*"):
                    stale.unlink(missing_ok=True)


@dataclass(frozen=True)
class CheckpointSchedule:
    """Save after `every_epochs` epochs or `every_seconds` seconds since the last save, whichever
    comes first; None switches a criterion off (both off: only on SIGTERM)."""

    every_epochs: int | None
    every_seconds: float | None

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any] | None) -> CheckpointSchedule:
        """From the config's `checkpoints` section; defaults and checks come from the schema."""
        values = section("checkpoints", value)
        epochs, seconds = values["every_epochs"], values["every_seconds"]
        return cls(every_epochs=epochs, every_seconds=None if seconds is None else float(seconds))

    def due(self, epochs: int, seconds: float) -> bool:
        return (self.every_epochs is not None and epochs >= self.every_epochs) or (
            self.every_seconds is not None and seconds >= self.every_seconds
        )


class Terminated(SystemExit):
    """Raised at the epoch end after SIGTERM, once the checkpoint is saved: exit status 143."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


class Checkpointer:
    """Saves the runs of one job into `store` on `schedule`, counted over the whole job (a run
    that ends between saves is saved with a later one, or retrained from its last checkpoint)."""

    def __init__(self, store: CheckpointStore, schedule: CheckpointSchedule) -> None:
        self.store = store
        self.schedule = schedule
        self.epochs = 0
        self.last_save = time.monotonic()
        self.terminating = False
        self.saves = 0

    def epoch_done(self, fold: int, seed: int, state: Callable[[], dict[str, Any]]) -> None:
        """After an epoch of run (fold, seed): save `state()` when due; after SIGTERM, save and
        raise `Terminated`."""
        self.epochs += 1
        seconds = time.monotonic() - self.last_save
        if self.terminating or self.schedule.due(self.epochs, seconds):
            self.store.save(fold, seed, state())
            self.saves += 1
            self.epochs, self.last_save = 0, time.monotonic()
        if self.terminating:
            logger.warning("SIGTERM: saved fold %d seed %d; exiting to resume later", fold, seed)
            raise Terminated

    @contextmanager
    def on_sigterm(self) -> Iterator[None]:
        """While inside: SIGTERM sets `terminating` instead of killing the process (main thread
        only; elsewhere the signal keeps its handler)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            self.terminating = True

        previous = signal.signal(signal.SIGTERM, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)
