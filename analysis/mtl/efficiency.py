"""Size and arithmetic of a model per input row: the deterministic figures of `efficiency.json`.

Measured timings (latency) depend on the machine and its load, so they are not model outputs:
`benchmarks/latency.py` measures them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import Any

from analysis.mtl.layers import InputShape, MultiTaskNet, count_multiply_adds, count_parameters
from analysis.mtl.models import build_model
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.settings import ModelSettings
from analysis.mtl.tasks import Task


def model_figures(model: MultiTaskNet, input_shape: InputShape) -> dict[str, int]:
    return {
        "n_parameters": count_parameters(model),
        "flops_per_clip": count_multiply_adds(model, input_shape),
    }


def efficiency_figures(
    tasks: list[Task],
    n_train: dict[int, dict[str, int]],
    input_shape: InputShape,
    model_config: Mapping | ModelSettings,
) -> dict[str, Any]:
    """Parameters and multiply-adds per input row of the model (freshly built); for a pair model
    the same for its two single-task models and the ratios `vs_two_singles`."""
    settings, seeds = ModelSettings.from_config(model_config), RunSeeds(seed=0, fold=0)
    model = build_model(settings, input_shape, {t.name: t.n_outputs for t in tasks}, seeds)
    pair = model_figures(model, input_shape)
    per_fold = {t.name: {str(f): counts[t.name] for f, counts in n_train.items()} for t in tasks}
    figures: dict[str, Any] = {
        "model_type": settings.type,
        "input_shape": list(input_shape),
        "n_features": int(math.prod(input_shape)),
        **pair,
        "n_train_clips": {t: statistics.mean(v.values()) for t, v in per_fold.items()},
        "n_train_clips_per_fold": per_fold,
    }
    if len(tasks) == 2:
        singles = [build_model(settings, input_shape, {t.name: t.n_outputs}, seeds) for t in tasks]
        both = [model_figures(single, input_shape) for single in singles]
        figures["two_singles"] = {key: both[0][key] + both[1][key] for key in pair}
        figures["vs_two_singles"] = {key: pair[key] / figures["two_singles"][key] for key in pair}
    return figures
