"""Typed settings of the models, built from a config section checked and completed by the schema.

The schema (`workflow/schemas/config.schema.yaml`) is the only place a default is declared; the
fields below have none, so a setting missing from the schema is an error, not a silent value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.config import section


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
