"""The optimisers `training.optimizer` names (moved out of train.py to keep it short).

Both use torch's multi-tensor (`foreach`) implementation, which torch picks by default only on
CUDA: on the CPU it gives the same numbers to the bit as the per-parameter loop
(tests/test_optimizers.py) for about 10 % less CPU per training job of the study's small networks,
whose steps are dominated by per-parameter Python overhead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from analysis.mtl.settings import TrainingSettings


def _adam(params: Any, config: TrainingSettings) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=config.learning_rate, weight_decay=config.weight_decay,
                            foreach=True)


def _sgd(params: Any, config: TrainingSettings) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        params, lr=config.learning_rate, momentum=config.momentum,
        weight_decay=config.weight_decay, foreach=True,
    )


OPTIMIZERS: dict[str, Callable[[Any, TrainingSettings], torch.optim.Optimizer]] = {
    "adam": _adam,
    "sgd": _sgd,
}
