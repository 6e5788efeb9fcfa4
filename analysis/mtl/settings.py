"""Typed settings of the models, built from a config section checked and completed by the schema.

The schema (`workflow/schemas/config.schema.yaml`) is the only place a default is declared; the
fields below have none, so a setting missing from the schema is an error, not a silent value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.config import section

# The `model` keys each model type reads: a job's params carry only these, so changing a setting
# of another model type (an adapter's gates in a DNN study) reruns no training job.
_CONV = ("type", "channels", "dropout")
KEYS_BY_MODEL_TYPE: dict[str, tuple[str, ...]] = {
    "dnn": ("type", "hidden", "dropout"),
    "cnn": _CONV,
    "adapters": (*_CONV, "adapter_channels", "cost_lambda", "cost_measure", "gate_init",
                 "gate_slope_start", "gate_slope_end"),
    "frame_dnn": ("type", "hidden", "dropout"),
}

# `training` keys that change no number (how a job reads its features): the job reads them from the
# config, not from its params, so changing them reruns nothing.
RUNTIME_ONLY_TRAINING_KEYS = ("preload_mb",)


def model_keys_used(model: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of the config's `model` section that its model type reads."""
    return {key: model[key] for key in KEYS_BY_MODEL_TYPE[model["type"]] if key in model}


def training_keys_used(training: Mapping[str, Any]) -> dict[str, Any]:
    """The `training` settings that can change a model's numbers."""
    return {k: v for k, v in training.items() if k not in RUNTIME_ONLY_TRAINING_KEYS}


@dataclass(frozen=True)
class ModelSettings:
    type: str
    hidden: tuple[int, ...]
    dropout: float
    channels: tuple[int, ...]
    adapter_channels: tuple[int, ...] | None  # None: half of `channels` (see adapters)
    cost_lambda: float
    cost_measure: str
    gate_init: float
    gate_slope_start: float
    gate_slope_end: float

    @classmethod
    def from_config(cls, model: Mapping[str, Any] | ModelSettings) -> ModelSettings:
        """From the config's `model` section (defaults filled in, checked by the schema)."""
        if isinstance(model, ModelSettings):
            return model
        values = section("model", model)
        adapter_channels = values.get("adapter_channels")
        return cls(
            **{
                **values,
                "hidden": tuple(values["hidden"]),
                "channels": tuple(values["channels"]),
                "adapter_channels": None if adapter_channels is None else tuple(adapter_channels),
            }
        )


@dataclass(frozen=True)
class EarlyStopping:
    """Stop after `patience` epochs without a lower validation loss; score the best epoch."""

    patience: int
    validation_fraction: float


@dataclass(frozen=True)
class TrainingSettings:
    """The config's `training` section, completed and checked by the schema."""

    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str
    momentum: float
    weight_decay: float
    seeds: tuple[int, ...]
    loss_weighting: str
    loss_weights: tuple[tuple[str, float], ...]
    batching: str
    early_stopping: EarlyStopping | None
    scaling: str
    preload_mb: float
    device: str

    @classmethod
    def from_config(cls, training: Mapping[str, Any] | TrainingSettings) -> TrainingSettings:
        if isinstance(training, TrainingSettings):
            return training
        values = section("training", training)
        stopping = values.get("early_stopping")
        return cls(
            epochs=values["epochs"],
            batch_size=values["batch_size"],
            learning_rate=float(values["learning_rate"]),
            optimizer=values["optimizer"],
            momentum=float(values["momentum"]),
            weight_decay=float(values["weight_decay"]),
            seeds=tuple(values["seeds"]),
            loss_weighting=values["loss_weighting"],
            loss_weights=tuple(sorted(values["loss_weights"].items())),
            batching=values["batching"],
            early_stopping=None if not stopping else EarlyStopping(**stopping),
            scaling=values["scaling"],
            preload_mb=float(values["preload_mb"]),
            device=values["device"],
        )
