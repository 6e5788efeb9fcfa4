"""Batch order: which training rows form each optimisation step, and which tasks' losses count.

Samplers own their generator and expose `state_dict`, so a resumed run sees the same batches (as
PANNs' samplers do). `training.batching` chooses one:

- `mixed` (default): one random permutation of all training rows per epoch, cut in chunks; a row
  carries the label of every task it has, so a clip of a one-dataset pair is seen once per epoch
  with both labels, and a batch of a two-dataset pair mixes clips of both;
- `alternating`: each task's labelled rows are permuted and cut in chunks, and the steps alternate
  between the tasks (in sorted order) until both are used up; only that task's loss counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import torch

from analysis.errors import StudyInputError

BATCHING_MODES = ("mixed", "alternating")


@dataclass(frozen=True)
class Batch:
    rows: torch.Tensor  # (batch,) int64: indices of training rows of the fold
    tasks: tuple[str, ...] | None = None  # the tasks whose losses count; None: every task


class ShuffledBatches:
    """Row indices 0..n_rows-1, one random permutation per epoch, cut in chunks."""

    def __init__(self, n_rows: int, batch_size: int, generator: torch.Generator) -> None:
        self.n_rows = n_rows
        self.batch_size = batch_size
        self.generator = generator

    def epoch(self) -> list[torch.Tensor]:
        """Row indices of each batch of an epoch: (batch_size,) int64 each, the last maybe short."""
        order = torch.randperm(self.n_rows, generator=self.generator)  # (n_rows,)
        return list(order.split(self.batch_size))

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])


class MixedBatches(ShuffledBatches):
    """Mixed batches over the given training rows (all tasks' losses count)."""

    def __init__(self, rows: torch.Tensor, batch_size: int, generator: torch.Generator) -> None:
        super().__init__(len(rows), batch_size, generator)
        self.rows = rows  # (n_rows,) int64

    def batches(self) -> list[Batch]:
        return [Batch(self.rows[chunk]) for chunk in self.epoch()]

    def steps_per_epoch(self) -> int:
        return math.ceil(self.n_rows / self.batch_size)


class AlternatingBatches:
    """Per-task batches, alternating between the tasks."""

    def __init__(
        self, rows: Mapping[str, torch.Tensor], batch_size: int, generator: torch.Generator
    ) -> None:
        self.rows = {task: rows[task] for task in sorted(rows)}  # task -> (n_labelled,) int64
        self.batch_size = batch_size
        self.generator = generator

    def steps_per_epoch(self) -> int:
        return sum(math.ceil(len(rows) / self.batch_size) for rows in self.rows.values())

    def batches(self) -> list[Batch]:
        queues = []
        for task, rows in self.rows.items():
            order = rows[torch.randperm(len(rows), generator=self.generator)]
            queues.append([Batch(chunk, (task,)) for chunk in order.split(self.batch_size)])
        steps = []
        for position in range(max(len(queue) for queue in queues)):
            steps += [queue[position] for queue in queues if position < len(queue)]
        return steps

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])


Sampler = MixedBatches | AlternatingBatches


def make_sampler(
    mode: str,
    rows: torch.Tensor,
    labelled: Mapping[str, torch.Tensor],
    batch_size: int,
    generator: torch.Generator,
) -> Sampler:
    """`rows`: training rows (n,); `labelled`: task -> (n,) bool, which of them the task labels."""
    if mode == "mixed":
        return MixedBatches(rows, batch_size, generator)
    if mode == "alternating":
        per_task = {task: rows[mask] for task, mask in labelled.items()}
        return AlternatingBatches(per_task, batch_size, generator)
    raise StudyInputError(f"training.batching {mode!r} is unknown; use one of {BATCHING_MODES}")
