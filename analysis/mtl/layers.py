"""Building blocks shared by every model type (`analysis.mtl.models`, `analysis.mtl.adapters`).

Every parameter is initialised from an explicit generator, and dropout draws from its own
generator, so no layer touches torch's global random state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from analysis.errors import StudyInputError


class GeneratorDropout(nn.Module):
    """Inverted dropout whose masks come from an explicit generator (set with `set_generator`)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def set_generator(self, generator: torch.Generator) -> None:
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        # Masks are drawn on the (CPU) generator and moved to x's device: the same masks on any
        # device; `.to` is a no-op on CPU.
        keep = torch.rand(x.shape, generator=self.generator, dtype=x.dtype) >= self.p
        return x * keep.to(x.device) / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def model_device(model: nn.Module) -> torch.device:
    """The device a model's parameters are on (the training device)."""
    return next(model.parameters()).device


InputShape = tuple[int, ...]  # shape of one input row: (n_features,) or (frames, bands)


class MultiTaskNet(nn.Module):
    """What the training loop relies on: `forward` returns {task: output}; a model may add a cost
    penalty to the loss (`penalty`) and follow the training progress (`set_progress`)."""

    def penalty(self) -> torch.Tensor | None:
        return None

    def set_progress(self, fraction: float) -> None:
        """Called before every step with the fraction of training done, in [0, 1]."""

    def set_dropout_generator(self, generator: torch.Generator) -> None:
        for module in self.modules():
            if isinstance(module, GeneratorDropout):
                module.set_generator(generator)


class SharedTrunkNet(MultiTaskNet):
    """A shared trunk (batch, ...) -> (batch, width) and one head per task -> {task: logits}."""

    def __init__(self, trunk: nn.Module, heads: Mapping[str, nn.Module], flatten: bool = False):
        super().__init__()
        self.trunk = trunk
        self.heads = nn.ModuleDict({task: heads[task] for task in sorted(heads)})
        self.flatten = flatten

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        shared = self.trunk(x.flatten(1) if self.flatten else x)  # (batch, width)
        return {task: head(shared) for task, head in self.heads.items()}  # (batch, n_outputs)


def init_linear(layer: nn.Linear, generator: torch.Generator) -> None:
    """PyTorch's default `nn.Linear` initialisation, drawn from `generator`."""
    nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
    bound = 1.0 / math.sqrt(layer.in_features)
    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def dnn_trunk(
    n_inputs: int, hidden: list[int], dropout: float, generator: torch.Generator
) -> nn.Sequential:
    """Linear-ReLU-dropout layers: (batch, n_inputs) -> (batch, hidden[-1])."""
    layers: list[nn.Module] = []
    width = n_inputs
    for size in hidden:
        linear = nn.Linear(width, size)
        init_linear(linear, generator)
        layers += [linear, nn.ReLU(), GeneratorDropout(dropout)]
        width = size
    return nn.Sequential(*layers)


def linear_head(width: int, n_outputs: int, generator: torch.Generator) -> nn.Linear:
    head = nn.Linear(width, n_outputs)
    init_linear(head, generator)
    return head


class ConvBlock(nn.Sequential):
    """3x3 convolution, batch norm, ReLU, 2x2 max pooling: (b, c_in, t, f) -> (b, c_out, t/2, f/2).

    Pooling rounds up, so inputs smaller than 2**layers frames or bands still work."""

    def __init__(self, c_in: int, c_out: int, generator: torch.Generator) -> None:
        conv = nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False)
        nn.init.kaiming_uniform_(conv.weight, a=math.sqrt(5), generator=generator)
        super().__init__(
            conv, nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)
        )


def conv_blocks(c_in: int, channels: list[int], generator: torch.Generator) -> nn.ModuleList:
    widths = [c_in] + channels
    return nn.ModuleList(ConvBlock(a, b, generator) for a, b in zip(widths, widths[1:]))


class ConvEncoder(nn.Module):
    """(batch, frames, bands) -> conv blocks -> global max pooling -> dropout -> (batch, c_last)."""

    def __init__(self, channels: list[int], dropout: float, generator: torch.Generator) -> None:
        super().__init__()
        self.blocks = conv_blocks(1, channels, generator)
        self.dropout = GeneratorDropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.unsqueeze(1)  # (batch, 1, frames, bands)
        for block in self.blocks:
            h = block(h)
        return self.dropout(h.amax(dim=(2, 3)))  # (batch, channels[-1])


def frames_and_bands(input_shape: InputShape, kind: str) -> tuple[int, int]:
    """(frames, bands) of a 2-d input, or a StudyInputError saying which features fit."""
    if len(input_shape) != 2:
        raise StudyInputError(
            f"model.type {kind!r} needs frame-based features of shape (rows, frames, bands), "
            f"e.g. features.extractor logmel_patches; these features have rows of shape "
            f"{tuple(input_shape)}. Use model.type dnn for summary features."
        )
    return int(input_shape[0]), int(input_shape[1])


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_multiply_adds(model: nn.Module, input_shape: int | InputShape) -> int:
    """Multiply-adds of one input row through the model in eval mode (all heads), from torch's
    FLOP counter (2 FLOPs per multiply-add of every matrix product and convolution)."""
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, *shape))
    finally:
        model.train(was_training)
    return counter.get_total_flops() // 2
