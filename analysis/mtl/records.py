"""The records of a model's runs and the tidy tables they become (docs/contracts.md, Models)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

RUN_COLUMNS = {"task": str, "fold": "int64", "seed": "int64"}
METRICS_COLUMNS = {**RUN_COLUMNS, "metric": str, "value": "float64"}
CURVE_COLUMNS = {**RUN_COLUMNS, "step": "int64", "loss": "float64"}
HISTORY_COLUMNS = {**RUN_COLUMNS, "epoch": "int64", "metric": str, "value": "float64"}
PER_CLASS_COLUMNS = {
    **RUN_COLUMNS,
    "class": str,
    "precision": "float64",
    "recall": "float64",
    "f1": "float64",
    "support": "int64",
}
CONFUSION_COLUMNS = {**RUN_COLUMNS, "true": str, "predicted": str, "count": "int64"}
VARIANCE_COLUMNS = {**RUN_COLUMNS, "layer": str, "variance": "float64"}


@dataclass
class RunRecords:
    """Rows of one (fold, seed) run, without fold and seed."""

    curve: list[tuple[str, int, float]] = field(default_factory=list)  # task, step, loss
    # task, epoch, metric, value
    history: list[tuple[str, int, str, float]] = field(default_factory=list)
    final: list[tuple[str, str, float]] = field(default_factory=list)  # task, metric, value
    per_class: list[tuple] = field(default_factory=list)  # task, class, precision, recall, f1, n
    confusion: list[tuple[str, str, str, int]] = field(default_factory=list)  # task, true, pred, n
    # task, shared layer, variance of its output on the task's test rows (analysis.mtl.variances)
    variances: list[tuple[str, str, float]] = field(default_factory=list)
    best_epochs: dict[str, int] = field(default_factory=dict)  # task -> epoch of its scored weights
    gates: dict[str, list[float]] = field(default_factory=dict)  # adapters: open gates per layer

    def to_state(self) -> dict[str, Any]:
        """Plain lists and dicts of Python numbers and strings (JSON), exact to the bit."""
        return {name: _plain(getattr(self, name)) for name in _RECORD_FIELDS}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RunRecords:
        # records saved before variances were measured have none
        rows = {name: [tuple(row) for row in state.get(name, [])] for name in _ROW_FIELDS}
        return cls(**rows, best_epochs=dict(state["best_epochs"]), gates=dict(state["gates"]))


_ROW_FIELDS = ("curve", "history", "final", "per_class", "confusion", "variances")
_RECORD_FIELDS = (*_ROW_FIELDS, "best_epochs", "gates")


def _plain(value: Any) -> Any:
    """`value` with tuples as lists and NumPy scalars as Python numbers (float64 and int64 keep
    every bit; JSON writes a float with the shortest repr that reads back to the same double)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value





def records_tables(runs: dict[tuple[int, int], RunRecords]) -> dict[str, pd.DataFrame]:
    """The metrics, curve, history, per_class, confusion and variances tables of all runs."""
    rows: dict[str, list[tuple]] = {name: [] for name in TABLE_COLUMNS}
    for (fold, seed), records in sorted(runs.items()):
        rows["curve"] += [(t, fold, seed, *rest) for t, *rest in records.curve]
        rows["history"] += [(t, fold, seed, *rest) for t, *rest in records.history]
        rows["metrics"] += [(t, fold, seed, *rest) for t, *rest in records.final]
        rows["per_class"] += [(t, fold, seed, *rest) for t, *rest in records.per_class]
        rows["confusion"] += [(t, fold, seed, *rest) for t, *rest in records.confusion]
        rows["variances"] += [(t, fold, seed, *rest) for t, *rest in records.variances]
    return {name: _table(rows[name], columns) for name, columns in TABLE_COLUMNS.items()}


TABLE_COLUMNS = {
    "metrics": METRICS_COLUMNS,
    "curve": CURVE_COLUMNS,
    "history": HISTORY_COLUMNS,
    "per_class": PER_CLASS_COLUMNS,
    "confusion": CONFUSION_COLUMNS,
    "variances": VARIANCE_COLUMNS,
}


def _table(rows: list[tuple], dtypes: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(dtypes)).astype(dtypes)


def gate_summary(records: dict[tuple[int, int], RunRecords]) -> dict[str, list[float]]:
    """Mean fraction of open adapter gates per layer and task over the runs."""
    per_task: dict[str, list[list[float]]] = {}
    for run in records.values():
        for task, fractions in run.gates.items():
            per_task.setdefault(task, []).append(fractions)
    return {task: np.mean(runs, axis=0).tolist() for task, runs in per_task.items()}
