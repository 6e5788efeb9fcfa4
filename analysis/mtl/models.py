"""Hard-parameter-sharing networks: a shared trunk and one output head per task.

`build_model` is the factory keyed by `model["type"]`; a new architecture (the CNN on log-mel
patches, task adapters) registers a builder in `MODEL_BUILDERS` that returns a `SharedTrunkNet`.
Every parameter is initialised from an explicit generator (see `analysis.mtl.seeding`), and dropout
draws from its own generator, so no run touches torch's global random state.
"""

from __future__ import annotations

import logging
import math
from typing import Callable, Mapping

import torch
from torch import nn

from analysis.errors import StudyInputError
from analysis.mtl.seeding import RunSeeds

logger = logging.getLogger(__name__)


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
        keep = torch.rand(x.shape, generator=self.generator, dtype=x.dtype) >= self.p  # like x
        return x * keep / (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class SharedTrunkNet(nn.Module):
    """A shared trunk (batch, ...) -> (batch, width) and one head per task -> {task: logits}."""

    def __init__(self, trunk: nn.Module, heads: Mapping[str, nn.Module]) -> None:
        super().__init__()
        self.trunk = trunk
        self.heads = nn.ModuleDict({task: heads[task] for task in sorted(heads)})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        shared = self.trunk(x)  # (batch, width)
        return {task: head(shared) for task, head in self.heads.items()}  # (batch, n_outputs)

    def set_dropout_generator(self, generator: torch.Generator) -> None:
        for module in self.modules():
            if isinstance(module, GeneratorDropout):
                module.set_generator(generator)


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


def _check_dnn_config(config: Mapping) -> tuple[list[int], float]:
    hidden = config.get("hidden")
    if not isinstance(hidden, (list, tuple)) or not hidden or not all(
        isinstance(h, int) and h > 0 for h in hidden
    ):
        raise StudyInputError(
            f"model.hidden must be a list of positive layer widths, got {hidden!r}"
        )
    dropout = float(config.get("dropout", 0.0))
    if not 0.0 <= dropout < 1.0:
        raise StudyInputError(f"model.dropout must be in [0, 1), got {dropout}")
    return list(hidden), dropout


def build_dnn(
    config: Mapping, n_inputs: int, head_sizes: Mapping[str, int], seeds: RunSeeds
) -> SharedTrunkNet:
    """Georgiev et al. (2017): fully connected shared layers, one softmax head per task."""
    hidden, dropout = _check_dnn_config(config)
    trunk = dnn_trunk(n_inputs, hidden, dropout, seeds.trunk())
    heads = {task: linear_head(hidden[-1], n, seeds.head(task)) for task, n in head_sizes.items()}
    return SharedTrunkNet(trunk, heads)


ModelBuilder = Callable[[Mapping, int, Mapping[str, int], RunSeeds], SharedTrunkNet]
MODEL_BUILDERS: dict[str, ModelBuilder] = {"dnn": build_dnn}


def check_model_config(config: Mapping) -> str:
    """The model type, or a StudyInputError naming the known ones."""
    kind = config.get("type")
    if kind not in MODEL_BUILDERS:
        raise StudyInputError(
            f"model.type {kind!r} is unknown; known model types: {sorted(MODEL_BUILDERS)}"
        )
    return kind


def build_model(
    config: Mapping, n_inputs: int, head_sizes: Mapping[str, int], seeds: RunSeeds
) -> SharedTrunkNet:
    """Build the model `config["type"]` for inputs of width `n_inputs` and {task: n_outputs}."""
    builder = MODEL_BUILDERS[check_model_config(config)]
    # nn.Linear draws a throw-away initialisation from the global generator on construction.
    with torch.random.fork_rng(devices=[]):
        model = builder(config, n_inputs, head_sizes, seeds)
    model.set_dropout_generator(seeds.dropout())
    return model


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_multiply_adds(model: nn.Module) -> int:
    """Multiply-adds of one clip through every linear layer (trunk and all heads)."""
    return sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear))
