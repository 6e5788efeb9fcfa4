"""Multi-task adapters (Tagliasacchi, de Chaumont Quitry and Roblek 2020, "Multi-task adapters
for on-device audio inference").

A shared conv encoder (the `cnn` model's) plus, for every task, an adapter: a column of conv layers
whose layer l reads the shared activations of layer l-1 concatenated with the task's own adapter
activations of layer l-1 (layer 0 reads the input). Each adapter channel is multiplied by a gate,
`clamp(slope * g, 0, 1)` (a clipped ReLU of a trainable variable g) whose slope rises geometrically
from `gate_slope_start` to `gate_slope_end` over training, so gates end near 0 or 1. The loss adds
`cost_lambda * cost / shared_cost`: the cost (parameters or multiply-adds) of the open adapter
channels, relative to the shared encoder's cost, so lambda is free of the encoder's size. A task's
head reads the pooled shared and adapter features. With every gate closed (lambda -> infinity) the
adapters contribute nothing and the model is the multi-head `cnn` baseline.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import replace

import torch
from torch import nn

from analysis.errors import StudyInputError
from analysis.mtl.layers import (
    ConvBlock,
    GeneratorDropout,
    InputShape,
    MultiTaskNet,
    conv_blocks,
    frames_and_bands,
    linear_head,
)
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.settings import ModelSettings

logger = logging.getLogger(__name__)

KERNEL = 3 * 3


def gate_slope(progress: float, start: float, end: float) -> float:
    """Slope of the gates after a fraction `progress` in [0, 1] of training: geometric rise."""
    fraction = min(max(progress, 0.0), 1.0)
    return start * (end / start) ** fraction


def gate_values(gate: torch.Tensor, slope: float) -> torch.Tensor:
    """The clipped ReLU min(max(slope * g, 0), 1) of each gate variable."""
    return torch.clamp(slope * gate, 0.0, 1.0)


def with_adapter_channels(settings: ModelSettings) -> ModelSettings:
    """`settings` with `adapter_channels` resolved (half of `channels` when not given) and the
    checks the schema cannot make (one adapter width per conv layer, slopes that rise)."""
    channels = settings.channels
    adapter = settings.adapter_channels or tuple(max(1, c // 2) for c in channels)
    if len(adapter) != len(channels):
        raise StudyInputError(
            f"model.adapter_channels needs one count per conv layer ({len(channels)}), "
            f"got {list(adapter)}"
        )
    if settings.gate_slope_start > settings.gate_slope_end:
        raise StudyInputError(
            "model.gate_slope_start and model.gate_slope_end need start <= end, got "
            f"{settings.gate_slope_start}, {settings.gate_slope_end}"
        )
    return replace(settings, adapter_channels=adapter)


class TaskAdapter(nn.Module):
    """One task's adapter column: conv blocks and one gate variable per adapter channel."""

    def __init__(self, config: ModelSettings, generator: torch.Generator) -> None:
        super().__init__()
        inputs = [1] + [s + a for s, a in zip(config.channels, config.adapter_channels)]
        self.blocks = nn.ModuleList(
            ConvBlock(c_in, c_out, generator)
            for c_in, c_out in zip(inputs, config.adapter_channels)
        )
        self.gates = nn.ParameterList(
            nn.Parameter(torch.full((c,), config.gate_init)) for c in config.adapter_channels
        )


def spatial_sizes(frames: int, bands: int, n_layers: int) -> list[tuple[int, int]]:
    """(frames, bands) at the input of each conv layer (pooling halves them, rounding up)."""
    sizes = [(frames, bands)]
    for _ in range(n_layers - 1):
        t, f = sizes[-1]
        sizes.append((math.ceil(t / 2), math.ceil(f / 2)))
    return sizes


class AdapterNet(MultiTaskNet):
    """Shared conv encoder plus one gated adapter column and one head per task."""

    def __init__(
        self,
        config: ModelSettings,
        input_shape: InputShape,
        head_sizes: Mapping[str, int],
        seeds: RunSeeds,
    ) -> None:
        super().__init__()
        self.config = config
        self.sizes = spatial_sizes(*frames_and_bands(input_shape, "adapters"), len(config.channels))
        self.head_sizes = {task: head_sizes[task] for task in sorted(head_sizes)}
        self.encoder = conv_blocks(1, list(config.channels), seeds.trunk())
        adapters, heads = {}, {}
        for task, n_outputs in self.head_sizes.items():
            generator = seeds.head(task)  # adapter then head: the same in single and pair models
            adapters[task] = TaskAdapter(config, generator)
            width = config.channels[-1] + config.adapter_channels[-1]
            heads[task] = linear_head(width, n_outputs, generator)
        self.adapters = nn.ModuleDict(adapters)
        self.heads = nn.ModuleDict(heads)
        self.dropout = GeneratorDropout(config.dropout)
        self.slope = config.gate_slope_start

    def set_progress(self, fraction: float) -> None:
        self.slope = gate_slope(fraction, self.config.gate_slope_start, self.config.gate_slope_end)

    def gates(self, task: str) -> list[torch.Tensor]:
        """Current gate values of each adapter layer of `task`: (adapter_channels[l],) each."""
        return [gate_values(g, self.slope) for g in self.adapters[task].gates]

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = x.unsqueeze(1)  # (batch, 1, frames, bands)
        shared = []
        for block in self.encoder:
            h = block(h)
            shared.append(h)  # (batch, channels[l], frames_l, bands_l)
        pooled = h.amax(dim=(2, 3))  # (batch, channels[-1])
        outputs = {}
        for task, adapter in self.adapters.items():
            a = x.unsqueeze(1)
            for layer, (block, gate) in enumerate(zip(adapter.blocks, self.gates(task))):
                inputs = a if layer == 0 else torch.cat([shared[layer - 1], a], dim=1)
                a = block(inputs) * gate.view(1, -1, 1, 1)  # (batch, adapter_channels[l], ...)
            features = torch.cat([pooled, a.amax(dim=(2, 3))], dim=1)
            outputs[task] = self.heads[task](self.dropout(features))  # (batch, n_outputs)
        return outputs

    def adapter_cost(self, task: str) -> torch.Tensor:
        """Cost of the open channels of `task`'s adapter and its extra head inputs (soft counts)."""
        measure = self.config.cost_measure
        total = torch.zeros(())
        open_below = torch.zeros(())
        for layer, gate in enumerate(self.gates(task)):
            open_now = gate.sum()
            shared_in = 1 if layer == 0 else self.config.channels[layer - 1]
            layer_cost = KERNEL * (shared_in + open_below) * open_now
            if measure == "flops":
                layer_cost = layer_cost * math.prod(self.sizes[layer])
            else:
                layer_cost = layer_cost + 2 * open_now  # batch-norm scale and shift
            total = total + layer_cost
            open_below = open_now
        return total + open_below * self.head_sizes[task]

    def shared_cost(self) -> float:
        """Cost of the shared encoder in the same measure (the penalty's unit)."""
        total = 0.0
        widths = [1] + list(self.config.channels)
        for layer, (c_in, c_out) in enumerate(zip(widths, widths[1:])):
            if self.config.cost_measure == "flops":
                total += KERNEL * c_in * c_out * math.prod(self.sizes[layer])
            else:
                total += KERNEL * c_in * c_out + 2 * c_out
        return total

    def penalty(self) -> torch.Tensor | None:
        if self.config.cost_lambda == 0:
            return None
        cost = torch.stack([self.adapter_cost(task) for task in self.adapters]).sum()
        return self.config.cost_lambda * cost / self.shared_cost()

    def open_fraction(self) -> dict[str, list[float]]:
        """Fraction of open (non-zero) gates of each adapter layer, per task."""
        with torch.no_grad():
            return {
                task: [float((g > 0).float().mean()) for g in self.gates(task)]
                for task in self.adapters
            }


def build_adapter_net(
    settings: ModelSettings,
    input_shape: InputShape,
    head_sizes: Mapping[str, int],
    seeds: RunSeeds,
) -> AdapterNet:
    return AdapterNet(with_adapter_channels(settings), input_shape, head_sizes, seeds)

