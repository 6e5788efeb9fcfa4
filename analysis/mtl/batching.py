"""Batch order: which training rows form each optimisation step, and which tasks' losses count.

Samplers own their generator and expose `state_dict`, so a resumed run sees the same batches (as
PANNs' samplers do). `training.batching` chooses one:

- `budget` (default, the fair comparison): every task keeps its own budget, the one it has alone.
  An epoch of task t is one permutation of its labelled training rows, drawn from its own generator
  (seeded by run and task), cut in `ceil(n_t / batch_size)` chunks; a step of the model holds one
  chunk of every task that takes part in it, and each chunk's rows count for their own task only.
  A model epoch has as many steps as its largest task has chunks; a task with fewer chunks takes
  part in evenly spread steps. So each task gets the same updates, rows per update and batch order
  in its single-task model and in every pair model, whatever the partner's size;
- `mixed` (epoch-based, not budget-fair): one random permutation of all training rows per epoch,
  cut in chunks; a row carries the label of every task it has, so a clip of a one-dataset pair is
  seen once per epoch with both labels, and a batch of a two-dataset pair mixes clips of both (the
  main task then gets (n_main + n_aux) / n_main times its single-task updates, with fewer rows each);
- `alternating` (not budget-fair either): each task's labelled rows are permuted and cut in chunks,
  and the steps alternate between the tasks (in sorted order) until both are used up; only that
  task's loss counts.

`UpdateCounts` counts, per task, the optimisation updates its loss took part in and their rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from analysis.errors import StudyInputError
from analysis.mtl.tasks import MISSING

BATCHING_MODES = ("budget", "mixed", "alternating")
FAIR_MODES = ("budget",)  # the modes that give a task the same budget alone and in a pair


@dataclass(frozen=True)
class Batch:
    rows: torch.Tensor  # (batch,) int64: indices of training rows of the fold
    tasks: tuple[str, ...] | None = None  # the tasks whose losses count; None: every task
    owners: torch.Tensor | None = None  # (batch,) int64: the one target column each row trains

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        """y (batch, n_tasks) with every target but the row's owner's set to MISSING."""
        if self.owners is None:
            return y
        columns = torch.arange(y.shape[1])[None, :]  # (1, n_tasks)
        return torch.where(columns == self.owners[:, None], y, torch.full_like(y, MISSING))


class ShuffledBatches:
    """Row indices 0..n_rows-1, one random permutation per epoch, cut in chunks.

    Not `BatchSampler(RandomSampler(..., generator=g))`: RandomSampler draws a second, unused
    permutation from `g` every epoch (`randperm(n)[:num_samples % n]`), so every epoch after the
    first would get another order than the models trained so far; the chunking is one `split`."""

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


class BudgetBatches:
    """Per-task chunks in shared steps: every task keeps its single-task updates and rows."""

    def __init__(
        self, rows: Mapping[str, torch.Tensor], batch_size: int,
        generators: Mapping[str, torch.Generator],
    ) -> None:
        self.rows = dict(rows)  # task -> (n_labelled,) int64, in target-column order
        self.batch_size = batch_size
        self.generators = dict(generators)

    def chunks_per_epoch(self) -> dict[str, int]:
        return {task: math.ceil(len(rows) / self.batch_size) for task, rows in self.rows.items()}

    def steps_per_epoch(self) -> int:
        return max(self.chunks_per_epoch().values())

    def batches(self) -> list[Batch]:
        steps = self.steps_per_epoch()
        chunks = {
            task: rows[torch.randperm(len(rows), generator=self.generators[task])].split(
                self.batch_size)
            for task, rows in self.rows.items()
        }
        out = []
        for step in range(steps):
            parts, owners, tasks = [], [], []
            for column, (task, own) in enumerate(chunks.items()):
                k = len(own)  # this task's chunks, spread evenly over the model's steps
                if (step + 1) * k // steps > step * k // steps:
                    chunk = own[(step + 1) * k // steps - 1]
                    parts.append(chunk)
                    owners.append(torch.full_like(chunk, column))
                    tasks.append(task)
            out.append(Batch(torch.cat(parts), tuple(tasks), torch.cat(owners)))
        return out

    def state_dict(self) -> dict[str, Any]:
        return {task: g.get_state() for task, g in sorted(self.generators.items())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for task, generator in self.generators.items():
            generator.set_state(state[task])


Sampler = BudgetBatches | MixedBatches | AlternatingBatches


def make_sampler(
    mode: str,
    rows: torch.Tensor,
    labelled: Mapping[str, torch.Tensor],
    batch_size: int,
    generator: torch.Generator,
    task_generator: Callable[[str], torch.Generator] | None = None,
) -> Sampler:
    """`rows`: training rows (n,); `labelled`: task -> (n,) bool, which of them the task labels,
    in target-column order; `task_generator(task)`: the own generator of a task (`budget`)."""
    if mode == "budget":
        if task_generator is None:
            raise ValueError("budget batching needs a generator per task")
        per_task = {task: rows[mask] for task, mask in labelled.items()}
        return BudgetBatches(per_task, batch_size, {t: task_generator(t) for t in per_task})
    if mode == "mixed":
        return MixedBatches(rows, batch_size, generator)
    if mode == "alternating":
        per_task = {task: rows[mask] for task, mask in labelled.items()}
        return AlternatingBatches(per_task, batch_size, generator)
    raise StudyInputError(f"training.batching {mode!r} is unknown; use one of {BATCHING_MODES}")


class UpdateCounts:
    """Per task: optimisation updates its loss took part in and rows they held, after each epoch."""

    def __init__(self) -> None:
        self.running: dict[str, list[int]] = {}  # task -> [updates, rows]
        self.at_epoch: dict[int, dict[str, tuple[int, int]]] = {}  # epoch -> task -> (u, rows)

    def add(self, y: torch.Tensor, order: tuple[str, ...], trained: Mapping[str, Any]) -> None:
        """One step: y (batch, n_tasks) as the losses saw it; `trained`: the tasks with a loss."""
        for column, task in enumerate(order):
            if task in trained:
                counts = self.running.setdefault(task, [0, 0])
                counts[0] += 1
                counts[1] += int((y[:, column] != MISSING).sum())

    def end_epoch(self, epoch: int) -> None:
        self.at_epoch[epoch] = {task: (u, n) for task, (u, n) in self.running.items()}

    def at(self, epoch: int, task: str) -> tuple[int, float]:
        """(updates, mean rows per update) of `task` after `epoch` epochs (0, NaN without any)."""
        updates, rows = self.at_epoch.get(epoch, {}).get(task, (0, 0))
        return updates, (rows / updates if updates else math.nan)

    def state_dict(self) -> dict[str, Any]:
        return {"running": {t: list(c) for t, c in self.running.items()},
                "at_epoch": {e: dict(c) for e, c in self.at_epoch.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.running = {t: list(c) for t, c in state["running"].items()}
        self.at_epoch = {int(e): {t: tuple(v) for t, v in c.items()}
                         for e, c in state["at_epoch"].items()}
