"""Combining the per-task losses of a batch into the loss that is minimised.

A combiner is a small plug-in module (as in LibMTL's `weighting/`): it gets {task: mean loss} of the
tasks present in the batch (losses are masked per task, so a task without labelled rows in a batch
is absent) and returns one scalar. Its parameters, if any, are optimised with the model's and its
`state_dict` goes into the checkpoint.

- `sum` (default): the plain sum, the method of the study;
- `weighted`: fixed weights, `training.loss_weights: {task: weight}`; a task not named gets the
  weight under the key `default` (1.0 if absent);
- `uncertainty`: homoscedastic uncertainty weighting (Kendall, Gal and Cipolla 2018), in the form
  of LibMTL: `sum_t loss_t / (2 exp(s_t)) + s_t / 2` with a trainable log-variance s_t per task,
  starting at 0.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

DEFAULT_KEY = "default"


class LossCombiner(nn.Module):
    def forward(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


class SumLosses(LossCombiner):
    """Sum of the task losses (each a mean over the task's labelled rows of the batch)."""

    def forward(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.stack([losses[task] for task in sorted(losses)]).sum()


class WeightedLosses(LossCombiner):
    """Sum of fixed weight * task loss."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        super().__init__()
        self.weights = dict(weights)

    def forward(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.stack([self.weights[task] * losses[task] for task in sorted(losses)]).sum()


class UncertaintyLosses(LossCombiner):
    """Kendall et al. (2018): a learned log-variance per task weighs its loss."""

    def __init__(self, tasks: Sequence[str]) -> None:
        super().__init__()
        self.tasks = sorted(tasks)
        self.log_variance = nn.Parameter(torch.zeros(len(self.tasks)))  # (n_tasks,)

    def forward(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor:
        terms = []
        for index, task in enumerate(self.tasks):
            if task in losses:
                s = self.log_variance[index]
                terms.append(losses[task] / (2.0 * torch.exp(s)) + s / 2.0)
        return torch.stack(terms).sum()


LOSS_COMBINERS = ("sum", "weighted", "uncertainty")


def task_weights(tasks: Sequence[str], weights: Mapping[str, float] | None) -> dict[str, float]:
    """{task: weight} from `training.loss_weights` (it may name other models' tasks), checked."""
    weights = dict(weights or {})
    for key, value in weights.items():
        if not isinstance(value, (int, float)) or value < 0:
            raise StudyInputError(
                f"training.loss_weights.{key} must be a number >= 0, got {value!r}"
            )
    default = float(weights.get(DEFAULT_KEY, 1.0))
    return {task: float(weights.get(task, default)) for task in tasks}


def build_loss_combiner(
    name: str, tasks: Sequence[str] = (), weights: Mapping[str, float] | None = None
) -> LossCombiner:
    """The combiner `training.loss_weighting` names, for the model's `tasks`."""
    if name == "sum":
        return SumLosses()
    if name == "weighted":
        return WeightedLosses(task_weights(tasks, weights))
    if name == "uncertainty":
        return UncertaintyLosses(tasks)
    raise StudyInputError(
        f"training.loss_weighting {name!r} is unknown; known: {list(LOSS_COMBINERS)}"
    )
