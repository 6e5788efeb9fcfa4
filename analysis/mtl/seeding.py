"""Seeds and random generators of one training run, derived from (seed, fold) and task names.

Every source of randomness in a run has its own `torch.Generator`, seeded from a stable hash of
what it depends on. The shared trunk depends on (seed, fold) only and each head on (seed, fold,
task), so the single-task model of task m and the pair model (m, a) start from the same trunk and
the same head for m.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

import torch


def task_hash(task: str) -> int:
    """A hash of a task name that is stable across processes and Python versions."""
    return zlib.crc32(task.encode("utf-8"))


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from a tuple of simple values (str, int)."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def make_generator(*parts: object) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed(derive_seed(*parts))
    return generator


@dataclass(frozen=True)
class RunSeeds:
    """The generators of the (fold, seed) run; each call returns a freshly seeded generator."""

    seed: int
    fold: int

    def trunk(self) -> torch.Generator:
        return make_generator("trunk", self.seed, self.fold)

    def head(self, task: str) -> torch.Generator:
        return make_generator("head", self.seed, self.fold, task_hash(task))

    def batches(self) -> torch.Generator:
        return make_generator("batches", self.seed, self.fold)

    def task_batches(self, task: str) -> torch.Generator:
        """Batch order of one task under `budget` batching: the same alone and in any pair."""
        return make_generator("batches", self.seed, self.fold, task_hash(task))

    def dropout(self) -> torch.Generator:
        return make_generator("dropout", self.seed, self.fold)

    def global_seed(self) -> int:
        """Seed for torch's global generator, for any code that still draws from it."""
        return derive_seed("global", self.seed, self.fold)
