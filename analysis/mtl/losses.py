"""Combining the per-task losses of a batch into the loss that is minimised.

A combiner is a small plug-in (as in LibMTL's `weighting/`): it gets {task: mean loss} of the
tasks present in the batch and returns one scalar. `sum` is the method of the study; weighted or
learned schemes add a class to `LOSS_COMBINERS` (with a `state_dict` if they carry state, so
resumed runs restore it).
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

import torch

from analysis.errors import StudyInputError


class LossCombiner(Protocol):
    def __call__(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class SumLosses:
    """Sum of the task losses (each a mean over the task's labelled samples)."""

    def __call__(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return torch.stack([losses[task] for task in sorted(losses)]).sum()

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


LOSS_COMBINERS: dict[str, type] = {"sum": SumLosses}


def build_loss_combiner(name: str) -> LossCombiner:
    if name not in LOSS_COMBINERS:
        raise StudyInputError(
            f"training.loss_weighting {name!r} is unknown; known: {sorted(LOSS_COMBINERS)}"
        )
    return LOSS_COMBINERS[name]()
