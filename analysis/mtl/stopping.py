"""Early stopping: each task selects its own epoch on its own validation loss.

With `training.early_stopping`, a validation part is carved from the training part of the fold
(never the test fold), per dataset: the clips held out of a dataset depend only on that dataset, the
fold and the seed, so a task validates on the same clips in its single-task model and in every pair
model, and a same-dataset partner never trains on them either. Every task of a model keeps its own
best epoch (lowest validation loss of that task alone) and its own patience; a task whose patience is
used up keeps the epoch it chose, however long its partner goes on, so its choice follows the same
rule as alone. The model stops when every task has used up its patience, and each task is scored with
the weights of its own best epoch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from analysis.mtl.data import EVAL_ROWS
from analysis.mtl.layers import model_device
from analysis.mtl.seeding import make_generator
from analysis.mtl.tasks import MISSING


@dataclass
class TaskStop:
    """One task's early-stopping bookkeeping; saved in the checkpoint."""

    best_loss: float = math.inf
    best_epoch: int = 0
    waited: int = 0
    done: bool = False  # patience used up: the choice is final
    best_model: dict[str, torch.Tensor] | None = None

    def update(self, loss: float, epoch: int, model: torch.nn.Module, patience: int) -> None:
        if self.done:
            return
        if loss < self.best_loss:
            self.best_loss, self.best_epoch, self.waited = loss, epoch, 0
            self.best_model = copy.deepcopy(model.state_dict())
        else:
            self.waited += 1
        self.done = self.waited >= patience


@dataclass
class StopState:
    """Every task's `TaskStop`."""

    tasks: dict[str, TaskStop] = field(default_factory=dict)

    def update(self, losses: Mapping[str, float], epoch: int, model: torch.nn.Module,
               patience: int) -> None:
        for task, loss in losses.items():
            self.tasks.setdefault(task, TaskStop()).update(loss, epoch, model, patience)

    def all_done(self, tasks: list[str]) -> bool:
        return all(task in self.tasks and self.tasks[task].done for task in tasks)

    def best_epoch(self, task: str) -> int:
        return self.tasks[task].best_epoch if task in self.tasks else 0

    def state_dict(self) -> dict[str, Any]:
        return {task: vars(stop).copy() for task, stop in sorted(self.tasks.items())}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> StopState:
        return cls({task: TaskStop(**values) for task, values in state.items()})


def _dataset_ranges(fold: Any, datasets: list[str]) -> list[tuple[str, int, int]]:
    """(dataset, first, stop) training positions of each dataset of the fold, in source order."""
    bounds = (*(fold.offsets or (0,)), fold.n_rows)
    return [(name, start, stop) for name, start, stop in zip(datasets, bounds, bounds[1:])]


def split_validation(
    fold: Any, fraction: float, seed: int, datasets: list[str]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(training positions, validation positions) of the fold's training rows.

    `datasets`: the model's datasets in the fold's source order (sorted names). Per dataset, a
    `fraction` of its training clips (rounded, at least one) is drawn with a generator seeded by
    (seed, fold number, dataset name) only: a dataset's validation clips are the same in every
    model that trains on it. Rows of one clip stay together."""
    clips = getattr(fold, "train_clips", None)
    clips = np.arange(fold.n_rows) if clips is None else np.asarray(clips)
    in_val = np.zeros(fold.n_rows, dtype=bool)
    for name, start, stop in _dataset_ranges(fold, datasets):
        units = np.unique(clips[start:stop])  # sorted: independent of the row order
        n_val = max(1, int(round(fraction * len(units))))
        generator = make_generator("validation", seed, fold.fold, name)
        chosen = units[torch.randperm(len(units), generator=generator)[:n_val].numpy()]
        in_val[start:stop] = np.isin(clips[start:stop], chosen)
    return torch.from_numpy(np.flatnonzero(~in_val)), torch.from_numpy(np.flatnonzero(in_val))


@torch.no_grad()
def validation_losses(
    model: Any, tasks: list, fold: Any, positions: torch.Tensor
) -> dict[str, float]:
    """Mean loss of each task over its labelled validation rows, in eval mode."""
    model.eval()
    totals = {task.name: [0.0, 0] for task in tasks}
    try:
        for chunk in positions.split(EVAL_ROWS):
            x, y = fold.batch(chunk)
            device = model_device(model)
            outputs = model(x.to(device))
            y = y.to(device)
            for column, task in enumerate(tasks):
                n = int((y[:, column] != MISSING).sum())
                loss = task.loss(outputs[task.name], y[:, column])
                if loss is not None:
                    totals[task.name][0] += float(loss) * n
                    totals[task.name][1] += n
    finally:
        model.train()
    return {task: total / n for task, (total, n) in totals.items() if n}
