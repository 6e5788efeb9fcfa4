"""Task affinity measured while one all-task model trains (TAG: Fifty et al., NeurIPS 2021).

Every `every`-th step, before the optimiser's update, the probe measures for every ordered pair
(main, aux) of tasks with labelled rows in the step's batch:

- `lookahead`: TAG's inter-task affinity Z = 1 - L_main(theta_s - eta * g_aux) / L_main(theta_s),
  the relative drop of the main task's loss on the same batch after one gradient step of the shared
  parameters theta_s on the auxiliary task's loss alone (heads and adapters unchanged), with
  eta = `step_size` (default: `training.learning_rate`). Positive: aux's update helps main.
- `cosine`: the cosine similarity of the two tasks' loss gradients on the shared parameters.

The probe is a measurement, not an update: it runs the model in eval mode (no dropout draw, no
batch-norm statistics update), takes gradients with `torch.autograd.grad` (no `.grad` is written),
evaluates the stepped parameters with `torch.func.functional_call` (the model's own parameters are
never written) and puts the train/eval mode back, so a model trained with the probe has the weights
of one trained without it. Its CPU seconds are recorded beside the training's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from analysis.config import section
from analysis.io import write_json, write_table
from analysis.mtl.tasks import MISSING, Task

TASK_SPECIFIC_PREFIXES = ("heads.", "adapters.")  # a task's own parameters; the rest is shared
PROBE_COLUMNS = ["fold", "seed", "step", "main", "aux", "lookahead", "cosine"]


def shared_parameters(model: nn.Module) -> dict[str, torch.Tensor]:
    """The parameters every task's loss flows through (not a head, not an adapter)."""
    return {
        name: parameter for name, parameter in model.named_parameters()
        if not name.startswith(TASK_SPECIFIC_PREFIXES)
    }


def _task_losses(
    outputs: Mapping[str, torch.Tensor], tasks: list[Task], y: torch.Tensor
) -> dict[str, torch.Tensor]:
    """{task: mean loss over its labelled rows} for the tasks with labelled rows in y."""
    losses = {}
    for column, task in enumerate(tasks):
        if bool((y[:, column] != MISSING).any()):
            loss = task.loss(outputs[task.name], y[:, column])
            if loss is not None:
                losses[task.name] = loss
    return losses


def _shared_gradients(
    model: nn.Module, tasks: list[Task], x: torch.Tensor, y: torch.Tensor,
    shared: dict[str, torch.Tensor],
) -> dict[str, tuple[torch.Tensor, ...]]:
    """Every present task's loss gradient on the shared parameters, from its own rows."""
    gradients = {}
    for column, task in enumerate(tasks):
        rows = y[:, column] != MISSING
        if not bool(rows.any()):
            continue
        with torch.enable_grad():
            loss = task.loss(model(x[rows])[task.name], y[rows, column])
            if loss is None:
                continue
            parts = torch.autograd.grad(loss, list(shared.values()), allow_unused=True)
        gradients[task.name] = tuple(
            torch.zeros_like(p) if g is None else g for p, g in zip(shared.values(), parts)
        )
    return gradients


def _double_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every floating parameter and buffer of the model as a float64 copy (others as they are)."""
    state = dict(model.named_parameters()) | dict(model.named_buffers())
    return {name: t.detach().double() if t.is_floating_point() else t for name, t in state.items()}


def _cosine_matrix(gradients: dict[str, tuple[torch.Tensor, ...]]) -> dict[str, dict[str, float]]:
    """{task: {task: cosine of their flattened gradients}}, every pair from one matrix product."""
    names = sorted(gradients)
    if not names:
        return {}
    flat = torch.stack([torch.cat([g.reshape(-1) for g in gradients[n]]).double() for n in names])
    unit = nn.functional.normalize(flat, dim=1)  # a zero gradient stays zero: cosine 0
    matrix = (unit @ unit.T).tolist()
    return {a: dict(zip(names, row)) for a, row in zip(names, matrix)}


def measure_affinity(
    model: nn.Module, tasks: list[Task], x: torch.Tensor, y: torch.Tensor, step_size: float
) -> list[tuple[str, str, float, float]]:
    """(main, aux, lookahead, cosine) of every ordered pair of tasks present in the batch (x, y:
    (batch, n_tasks) codes, MISSING where a row does not count for a task); the model is left as
    it was."""
    was_training = model.training
    model.eval()
    try:
        shared = shared_parameters(model)
        gradients = _shared_gradients(model, tasks, x, y, shared)
        cosines = _cosine_matrix(gradients)
        rows = []
        with torch.no_grad():
            # in float64: a step of the learning rate's size changes a loss by about 1e-5 of itself,
            # too close to float32's resolution for a ratio
            weights = _double_state(model)
            x = x.double()
            before = _task_losses(torch.func.functional_call(model, weights, (x,)), tasks, y)
            for aux in sorted(gradients):
                stepped = weights | {
                    name: weights[name] - step_size * g.double()
                    for name, g in zip(shared, gradients[aux])
                }
                after = _task_losses(torch.func.functional_call(model, stepped, (x,)), tasks, y)
                for main in sorted(before):
                    if main == aux or main not in gradients:
                        continue
                    lookahead = 1.0 - float(after[main]) / float(before[main])
                    cosine = cosines[main][aux]
                    rows.append((main, aux, lookahead, cosine))
        return rows
    finally:
        model.train(was_training)


@dataclass
class AffinityProbe:
    """The probe of one run (fold, seed): measures every `every`-th step, records rows and cost."""

    fold: int
    seed: int
    every: int
    step_size: float
    rows: list[tuple] = field(default_factory=list)
    cpu_seconds: float = 0.0

    def __call__(
        self, model: nn.Module, tasks: list[Task], x: torch.Tensor, y: torch.Tensor, step: int
    ) -> None:
        if step % self.every:
            return
        started = time.process_time()
        for row in measure_affinity(model, tasks, x, y, self.step_size):
            self.rows.append((self.fold, self.seed, step, *row))
        self.cpu_seconds += time.process_time() - started


@dataclass
class AffinityRecorder:
    """A probe per run (the `probes` factory of `train_study_model`), and their tables."""

    every: int
    step_size: float
    probes: list[AffinityProbe] = field(default_factory=list)

    def __call__(self, fold: int, seed: int) -> AffinityProbe:
        probe = AffinityProbe(fold, seed, self.every, self.step_size)
        self.probes.append(probe)
        return probe

    def table(self) -> pd.DataFrame:
        rows = [row for probe in self.probes for row in probe.rows]
        return pd.DataFrame(rows, columns=PROBE_COLUMNS)

    @property
    def cpu_seconds(self) -> float:
        return sum(probe.cpu_seconds for probe in self.probes)


def affinity_settings(affinity: Mapping[str, Any] | None, training: Mapping[str, Any]) -> tuple:
    """(every, step_size, folds) from the config's `affinity` and `training` sections (schema
    defaults); folds None: every test fold."""
    values = section("affinity", affinity)
    step_size = values["step_size"]
    if step_size is None:
        step_size = section("training", training)["learning_rate"]
    return int(values["every"]), float(step_size), values["folds"]


def train_affinity_model(
    out_dir: str, affinity: Mapping[str, Any] | None = None, **train_args: Any
) -> None:
    """Train the all-task model with the affinity probe (`train_study_model`'s arguments) and
    write, beside its usual tables, `probe.parquet` (one row per probe and ordered pair) and
    `probe_cost.json` (CPU seconds of the probe and of the whole training, and their ratio)."""
    from analysis.mtl.train import train_study_model

    every, step_size, folds = affinity_settings(affinity, train_args.get("training", {}))
    recorder = AffinityRecorder(every, step_size)
    started = time.process_time()
    train_study_model(out_dir=out_dir, probes=recorder, first_folds=folds, **train_args)
    total = time.process_time() - started
    out = Path(out_dir)
    write_table(recorder.table(), out / "probe.parquet")
    write_json(
        {
            "every": every, "step_size": step_size, "probe_cpu_s": recorder.cpu_seconds,
            "training_cpu_s": total, "probe_share": recorder.cpu_seconds / total if total else 0.0,
        },
        out / "probe_cost.json",
    )
