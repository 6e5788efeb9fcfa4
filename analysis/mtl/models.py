"""Multi-task networks: every `forward` returns {task: output}.

`build_model` is the factory keyed by `model["type"]`: `dnn` (Georgiev et al. 2017: fully
connected shared layers, one head per task), `cnn` (the conv encoder of Tagliasacchi et al. 2020 on
log-mel patches, one head per task) and `adapters` (that encoder plus gated per-task adapters, see
`analysis.mtl.adapters`). A builder returns a `MultiTaskNet`.
Every parameter is initialised from an explicit generator (see `analysis.mtl.seeding`), and dropout
draws from its own generator, so no run touches torch's global random state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch

from analysis.mtl.adapters import build_adapter_net
from analysis.mtl.frame_heads import build_frame_dnn
from analysis.mtl.layers import (
    ConvEncoder,
    InputShape,
    MultiTaskNet,
    SharedTrunkNet,
    count_multiply_adds,  # noqa: F401  (re-exported: the training code reports it)
    count_parameters,  # noqa: F401
    dnn_trunk,
    frames_and_bands,
    linear_head,
)
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.settings import ModelSettings


def build_dnn(
    settings: ModelSettings,
    input_shape: InputShape,
    head_sizes: Mapping[str, int],
    seeds: RunSeeds,
) -> SharedTrunkNet:
    """Georgiev et al. (2017): fully connected shared layers, one head per task.

    A frame-based input (frames, bands) is flattened."""
    hidden = list(settings.hidden)
    trunk = dnn_trunk(math.prod(input_shape), hidden, settings.dropout, seeds.trunk())
    heads = {task: linear_head(hidden[-1], n, seeds.head(task)) for task, n in head_sizes.items()}
    return SharedTrunkNet(trunk, heads, flatten=len(input_shape) > 1)


def build_cnn(
    settings: ModelSettings,
    input_shape: InputShape,
    head_sizes: Mapping[str, int],
    seeds: RunSeeds,
) -> SharedTrunkNet:
    """Tagliasacchi et al. (2020): five conv layers (channels 8..128) on log-mel patches, global max pooling, task heads."""
    frames_and_bands(input_shape, "cnn")
    channels = list(settings.channels)
    trunk = ConvEncoder(channels, settings.dropout, seeds.trunk())
    heads = {task: linear_head(channels[-1], n, seeds.head(task)) for task, n in head_sizes.items()}
    return SharedTrunkNet(trunk, heads)


ModelBuilder = Callable[[ModelSettings, InputShape, Mapping[str, int], RunSeeds], MultiTaskNet]
MODEL_BUILDERS: dict[str, ModelBuilder] = {
    "dnn": build_dnn,
    "cnn": build_cnn,
    "adapters": build_adapter_net,
    "frame_dnn": build_frame_dnn,  # per-frame shared layers, for detection tasks
}


def check_model_config(config: Mapping | ModelSettings) -> str:
    """The model type; a StudyInputError names a setting the schema rejects."""
    return ModelSettings.from_config(config).type


def build_model(
    config: Mapping | ModelSettings,
    input_shape: int | InputShape,
    head_sizes: Mapping[str, int],
    seeds: RunSeeds,
) -> MultiTaskNet:
    """Build the model `config["type"]` for input rows of `input_shape` and {task: n_outputs}."""
    settings = ModelSettings.from_config(config)
    builder = MODEL_BUILDERS[settings.type]
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(int(s) for s in input_shape)
    # nn.Linear and nn.Conv2d draw a throw-away initialisation from the global generator.
    with torch.random.fork_rng(devices=[]):
        model = builder(settings, shape, head_sizes, seeds)
    model.set_dropout_generator(seeds.dropout())
    return model


