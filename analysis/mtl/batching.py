"""Batch order: which training rows form each optimisation step.

The sampler owns its generator and exposes `state_dict`, so a resumed run sees the same batches
(as PANNs' samplers do). Alternating per-task batches would be another sampler with the same
interface.
"""

from __future__ import annotations

from typing import Any

import torch


class ShuffledBatches:
    """Mixed batches: one random permutation of all training rows per epoch, cut in chunks."""

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
