"""The optimisers `training.optimizer` names (moved out of train.py to keep it short)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from analysis.mtl.settings import TrainingSettings


def _adam(params: Any, config: TrainingSettings) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=config.learning_rate, weight_decay=config.weight_decay)


def _sgd(params: Any, config: TrainingSettings) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        params, lr=config.learning_rate, momentum=config.momentum,
        weight_decay=config.weight_decay,
    )


OPTIMIZERS: dict[str, Callable[[Any, TrainingSettings], torch.optim.Optimizer]] = {
    "adam": _adam,
    "sgd": _sgd,
}
