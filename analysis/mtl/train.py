"""Training of the single- and dual-task models of the study (hard parameter sharing).

`train_study_model` is what the Snakemake rule calls: for every test fold and seed it trains one
model on the training parts of the tasks' datasets, records the per-step training loss of each task
and the test-fold scores after every epoch, and writes the tables of `docs/contracts.md` (Models).

A run trains a fixed number of epochs, or stops early when `training.early_stopping` is set: a
validation part is then carved from the training part of the fold (never the test fold), seeded
and stratified on the task labels, and the weights of the epoch with the lowest validation loss
are the ones scored.
"""

from __future__ import annotations

import copy
import logging
import math
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from analysis.errors import StudyInputError
from analysis.io import write_json, write_table
from analysis.mtl.batching import BATCHING_MODES, Sampler, make_sampler
from analysis.mtl.checkpoints import (
    Checkpointer,
    CheckpointSchedule,
    CheckpointStore,
    run_fingerprint,
)
from analysis.mtl.data import DataOptions, FoldData, build_fold, common_folds, load_inputs
from analysis.mtl.losses import LOSS_COMBINERS, LossCombiner, build_loss_combiner, task_weights
from analysis.mtl.metrics import METRICS, TaskReport, evaluate, final_evaluation
from analysis.mtl.models import (
    InputShape,
    MultiTaskNet,
    build_model,
    check_model_config,
    count_multiply_adds,
    count_parameters,
)
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.tasks import MISSING, Task

logger = logging.getLogger(__name__)

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
VALIDATION_METRIC = "validation_loss"
EVAL_ROWS = 4096


def _adam(params: Any, config: "TrainingConfig") -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=config.learning_rate, weight_decay=config.weight_decay)


def _sgd(params: Any, config: "TrainingConfig") -> torch.optim.Optimizer:
    return torch.optim.SGD(
        params, lr=config.learning_rate, momentum=config.momentum,
        weight_decay=config.weight_decay,
    )


OPTIMIZERS: dict[str, Callable[[Any, "TrainingConfig"], torch.optim.Optimizer]] = {
    "adam": _adam,
    "sgd": _sgd,
}


@dataclass(frozen=True)
class EarlyStopping:
    """Stop after `patience` epochs without a lower validation loss; score the best epoch."""

    patience: int
    validation_fraction: float = 0.1

    @classmethod
    def from_mapping(cls, value: Any) -> "EarlyStopping | None":
        if value is None or value is False:
            return None
        if not isinstance(value, Mapping) or "patience" not in value:
            raise StudyInputError(
                "training.early_stopping must be null or {patience: N, validation_fraction: F}, "
                f"got {value!r}"
            )
        stopping = cls(
            patience=int(value["patience"]),
            validation_fraction=float(value.get("validation_fraction", cls.validation_fraction)),
        )
        if stopping.patience < 1 or not 0.0 < stopping.validation_fraction < 0.5:
            raise StudyInputError(
                "training.early_stopping needs patience >= 1 and 0 < validation_fraction < 0.5, "
                f"got {stopping.patience}, {stopping.validation_fraction}"
            )
        return stopping


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    seeds: tuple[int, ...] = (0,)
    loss_weighting: str = "sum"
    loss_weights: tuple[tuple[str, float], ...] = ()
    batching: str = "mixed"
    early_stopping: EarlyStopping | None = None

    @classmethod
    def from_mapping(cls, training: Mapping[str, Any]) -> "TrainingConfig":
        for key in ("epochs", "batch_size", "learning_rate"):
            if key not in training:
                raise StudyInputError(f"training.{key} is missing")
        weights = training.get("loss_weights") or {}
        if not isinstance(weights, Mapping):
            raise StudyInputError(f"training.loss_weights must be a mapping, got {weights!r}")
        config = cls(
            epochs=int(training["epochs"]),
            batch_size=int(training["batch_size"]),
            learning_rate=float(training["learning_rate"]),
            optimizer=str(training.get("optimizer", "adam")),
            momentum=float(training.get("momentum", 0.9)),
            weight_decay=float(training.get("weight_decay", 0.0)),
            seeds=tuple(int(s) for s in training.get("seeds", [0])),
            loss_weighting=str(training.get("loss_weighting", "sum")),
            loss_weights=tuple(sorted(weights.items())),
            batching=str(training.get("batching", "mixed")),
            early_stopping=EarlyStopping.from_mapping(training.get("early_stopping")),
        )
        config.check()
        return config

    def check(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.learning_rate <= 0:
            raise StudyInputError(
                "training.epochs and training.batch_size must be >= 1 and "
                f"training.learning_rate > 0, got {self.epochs}, {self.batch_size}, "
                f"{self.learning_rate}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise StudyInputError(
                f"training.optimizer {self.optimizer!r} is unknown; known: {sorted(OPTIMIZERS)}"
            )
        if not 0.0 <= self.momentum < 1.0:
            raise StudyInputError(f"training.momentum must be in [0, 1), got {self.momentum}")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise StudyInputError(f"training.seeds must be distinct and non-empty: {self.seeds}")
        if self.loss_weighting not in LOSS_COMBINERS:
            raise StudyInputError(
                f"training.loss_weighting {self.loss_weighting!r} is unknown; known: "
                f"{list(LOSS_COMBINERS)}"
            )
        task_weights([], dict(self.loss_weights))  # checks the values
        if self.batching not in BATCHING_MODES:
            raise StudyInputError(
                f"training.batching {self.batching!r} is unknown; use one of {BATCHING_MODES}"
            )


@dataclass(frozen=True)
class EpochEnd:
    """What an `on_epoch_end` callback sees after an epoch is trained, evaluated and saved."""

    fold: int
    seed: int
    epoch: int  # 1-based: the number of epochs done
    scores: dict[str, dict[str, float]]  # {task: {metric: value}}


EpochCallback = Callable[[EpochEnd], None]


@dataclass
class RunRecords:
    """Rows of one (fold, seed) run, without fold and seed."""

    curve: list[tuple[str, int, float]] = field(default_factory=list)  # task, step, loss
    # task, epoch, metric, value
    history: list[tuple[str, int, str, float]] = field(default_factory=list)
    final: list[tuple[str, str, float]] = field(default_factory=list)  # task, metric, value
    per_class: list[tuple] = field(default_factory=list)  # task, class, precision, recall, f1, n
    confusion: list[tuple[str, str, str, int]] = field(default_factory=list)  # task, true, pred, n
    best_epoch: int = 0
    gates: dict[str, list[float]] = field(default_factory=dict)  # adapters: open gates per layer


@dataclass
class StopState:
    """Early-stopping bookkeeping; saved in the checkpoint."""

    best_loss: float = math.inf
    best_epoch: int = 0
    waited: int = 0
    best_model: dict[str, torch.Tensor] | None = None

    def update(self, loss: float, epoch: int, model: MultiTaskNet) -> None:
        if loss < self.best_loss:
            self.best_loss, self.best_epoch, self.waited = loss, epoch, 0
            self.best_model = copy.deepcopy(model.state_dict())
        else:
            self.waited += 1

    def state_dict(self) -> dict[str, Any]:
        return {
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "waited": self.waited,
            "best_model": self.best_model,
        }


@dataclass
class RunState:
    """Everything that changes while a run trains, and is saved in its checkpoint."""

    model: MultiTaskNet
    optimizer: torch.optim.Optimizer
    batches: Sampler
    combiner: LossCombiner
    dropout: torch.Generator
    total_steps: int
    epoch: int = 0
    step: int = 0
    records: RunRecords = field(default_factory=RunRecords)
    stop: StopState = field(default_factory=StopState)
    patience: int | None = None  # early stopping's, None without it

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "batches": self.batches.state_dict(),
            "combiner": self.combiner.state_dict(),
            "dropout": self.dropout.get_state(),
            "global_rng": torch.get_rng_state(),
            "epoch": self.epoch,
            "step": self.step,
            "curve": list(self.records.curve),
            "history": list(self.records.history),
            "stop": self.stop.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.batches.load_state_dict(state["batches"])
        self.combiner.load_state_dict(state["combiner"])
        self.dropout.set_state(state["dropout"])
        torch.set_rng_state(state["global_rng"])
        self.epoch = state["epoch"]
        self.step = state["step"]
        self.records = RunRecords(
            curve=[tuple(row) for row in state["curve"]],
            history=[tuple(row) for row in state["history"]],
        )
        self.stop = StopState(**state["stop"])
        self.model.set_progress(self.step / self.total_steps)

    @property
    def stopped(self) -> bool:
        """Early stopping's patience is used up."""
        return self.patience is not None and self.stop.waited >= self.patience


@contextmanager
def torch_settings(threads: int) -> Iterator[None]:
    """Deterministic algorithms and a fixed thread count; the previous settings come back after."""
    previous = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled())
    torch.set_num_threads(max(1, threads))
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(previous[0])
        torch.use_deterministic_algorithms(previous[1])


# The validation part of early stopping ----------------------------------------------------------


def _strata(units: np.ndarray) -> np.ndarray | None:
    """Stratification keys: the label codes of every task; rare combinations pooled."""
    keys = pd.Series(["/".join(map(str, row)) for row in units])
    counts = keys.map(keys.value_counts())
    keys = keys.where(counts >= 2, "rare")
    if (keys == "rare").sum() == 1:
        keys[keys == "rare"] = keys.mode()[0]
    return keys.to_numpy() if keys.nunique() > 1 else None


def split_validation(
    fold: FoldData, fraction: float, seeds: RunSeeds
) -> tuple[torch.Tensor, torch.Tensor]:
    """(training positions, validation positions) of the fold's training rows, stratified on the
    labels and seeded by (seed, fold). Rows of one clip stay together when the fold says which
    clip each training row is (`train_clips`)."""
    from sklearn.model_selection import train_test_split  # imported only with early stopping

    clips = getattr(fold, "train_clips", None)
    clips = np.arange(fold.n_rows) if clips is None else np.asarray(clips)
    units, first = np.unique(clips, return_index=True)
    labels = fold.train_y.numpy()[first]  # (n_units, n_tasks)
    state = seeds.validation_seed() % 2**32
    n_val = max(1, int(round(fraction * len(units))))
    strata = _strata(labels)
    try:
        train_units, val_units = train_test_split(
            units, test_size=n_val, random_state=state, stratify=strata
        )
    except ValueError as error:  # more strata than validation units
        logger.warning("validation part not stratified (%s)", error)
        train_units, val_units = train_test_split(units, test_size=n_val, random_state=state)
    in_val = np.isin(clips, val_units)
    return torch.from_numpy(np.flatnonzero(~in_val)), torch.from_numpy(np.flatnonzero(in_val))


@torch.no_grad()
def validation_losses(
    model: MultiTaskNet, tasks: list[Task], fold: FoldData, positions: torch.Tensor
) -> dict[str, float]:
    """Mean loss of each task over its labelled validation rows, in eval mode."""
    model.eval()
    totals = {task.name: [0.0, 0] for task in tasks}
    try:
        for chunk in positions.split(EVAL_ROWS):
            x, y = fold.batch(chunk)
            outputs = model(x)
            for column, task in enumerate(tasks):
                n = int((y[:, column] != MISSING).sum())
                loss = task.loss(outputs[task.name], y[:, column])
                if loss is not None:
                    totals[task.name][0] += float(loss) * n
                    totals[task.name][1] += n
    finally:
        model.train()
    return {task: total / n for task, (total, n) in totals.items() if n}


# One run ----------------------------------------------------------------------------------------

_startup_logged = False


def log_startup() -> None:
    """Log, once per process, the CPU seconds it spent before its first batch (interpreter, the
    job's preamble, imports, reading the inputs): `benchmarks/study.py` reads this line."""
    global _startup_logged
    if not _startup_logged:
        _startup_logged = True
        logger.info("startup: %.3f CPU-s before the first batch", time.process_time())



def new_run_state(
    tasks: list[Task],
    fold: FoldData,
    model_config: Mapping,
    config: TrainingConfig,
    seeds: RunSeeds,
    train_positions: torch.Tensor,
) -> RunState:
    """A freshly initialised run: model, optimizer, batch order and dropout generators."""
    head_sizes = {task.name: task.n_outputs for task in tasks}
    model = build_model(model_config, fold.input_shape, head_sizes, seeds)
    dropout = seeds.dropout()
    model.set_dropout_generator(dropout)
    combiner = build_loss_combiner(
        config.loss_weighting, [t.name for t in tasks], dict(config.loss_weights)
    )
    parameters = list(model.parameters()) + list(combiner.parameters())
    optimizer = OPTIMIZERS[config.optimizer](parameters, config)
    labelled = {
        task.name: fold.train_y[train_positions, column] != MISSING
        for column, task in enumerate(tasks)
    }
    batches = make_sampler(
        config.batching, train_positions, labelled, config.batch_size, seeds.batches()
    )
    total_steps = config.epochs * batches.steps_per_epoch()
    patience = config.early_stopping.patience if config.early_stopping is not None else None
    return RunState(
        model, optimizer, batches, combiner, dropout, max(1, total_steps), patience=patience
    )


def train_step(
    state: RunState, tasks: list[Task], x: torch.Tensor, y: torch.Tensor,
    batch_tasks: tuple[str, ...] | None = None,
) -> dict[str, float]:
    """One optimisation step on a batch x (batch, *input_shape), y (batch, n_tasks); the loss of
    each task of `batch_tasks` (default: all) that has labelled rows in the batch."""
    state.model.set_progress(state.step / state.total_steps)
    outputs = state.model(x)  # {task: (batch, n_outputs)}
    losses = {}
    for column, task in enumerate(tasks):
        if batch_tasks is not None and task.name not in batch_tasks:
            continue
        loss = task.loss(outputs[task.name], y[:, column])
        if loss is not None:
            losses[task.name] = loss
    if not losses:
        return {}
    total = state.combiner(losses)
    penalty = state.model.penalty()
    if penalty is not None:
        total = total + penalty
    state.optimizer.zero_grad(set_to_none=True)
    total.backward()
    state.optimizer.step()
    return {task: float(loss.detach()) for task, loss in losses.items()}


def train_epoch(state: RunState, tasks: list[Task], fold: FoldData) -> None:
    """One pass over the fold's training rows; the loss of each task at each step is recorded."""
    state.model.train()
    for batch in state.batches.batches():
        losses = train_step(state, tasks, *fold.batch(batch.rows), batch.tasks)
        state.step += 1
        for task, loss in losses.items():  # a task absent from the batch gets no row
            state.records.curve.append((task, state.step, loss))


def record_scores(state: RunState, scores: dict[str, dict[str, float]]) -> None:
    for task, values in scores.items():
        for metric in METRICS:
            state.records.history.append((task, state.epoch, metric, values[metric]))


def _validate(state: RunState, tasks: list[Task], fold: FoldData, positions: torch.Tensor) -> None:
    losses = validation_losses(state.model, tasks, fold, positions)
    for task, loss in losses.items():
        state.records.history.append((task, state.epoch, VALIDATION_METRIC, loss))
    state.stop.update(sum(losses.values()), state.epoch, state.model)


def _finish(state: RunState, tasks: list[Task], fold: FoldData) -> RunRecords:
    if state.stop.best_model is not None:
        state.model.load_state_dict(state.stop.best_model)
    reports: dict[str, TaskReport] = final_evaluation(state.model, tasks, fold)
    records = state.records
    records.best_epoch = state.stop.best_epoch or state.epoch
    for task, report in reports.items():
        records.final += [(task, metric, value) for metric, value in report.scores.items()]
        records.per_class += [(task, *row) for row in report.per_class]
        records.confusion += [(task, *row) for row in report.confusion]
    if hasattr(state.model, "open_fraction"):
        records.gates = state.model.open_fraction()
    return records


def train_run(
    tasks: list[Task],
    fold: FoldData,
    seed: int,
    model_config: Mapping,
    config: TrainingConfig,
    checkpoints: Checkpointer | None = None,
    on_epoch_end: EpochCallback | None = None,
) -> RunRecords:
    """Train (or resume, or skip if finished) the run (fold, seed) and return its records."""
    seeds = RunSeeds(seed=seed, fold=fold.fold)
    all_positions = torch.arange(fold.n_rows)
    validation = None
    if config.early_stopping is not None:
        training_part, validation = split_validation(
            fold, config.early_stopping.validation_fraction, seeds
        )
    else:
        training_part = all_positions
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds.global_seed())
        state = new_run_state(tasks, fold, model_config, config, seeds, training_part)
        saved = checkpoints.store.load(fold.fold, seed) if checkpoints is not None else None
        if saved is not None:
            state.load_state_dict(saved)
            logger.info("fold %d seed %d: resuming after epoch %d", fold.fold, seed, state.epoch)
        log_startup()
        while state.epoch < config.epochs and not state.stopped:
            train_epoch(state, tasks, fold)
            state.epoch += 1
            scores = evaluate(state.model, tasks, fold)
            record_scores(state, scores)
            if validation is not None:
                _validate(state, tasks, fold, validation)
            if checkpoints is not None:
                checkpoints.epoch_done(fold.fold, seed, state.state_dict)
            if on_epoch_end is not None:
                on_epoch_end(EpochEnd(fold.fold, seed, state.epoch, scores))
        if state.stopped:
            logger.info(
                "fold %d seed %d: stopped after epoch %d; best epoch %d", fold.fold, seed,
                state.epoch, state.stop.best_epoch,
            )
        return _finish(state, tasks, fold)


# Tables and efficiency --------------------------------------------------------------------------


def records_tables(runs: dict[tuple[int, int], RunRecords]) -> dict[str, pd.DataFrame]:
    """The metrics, curve, history, per_class and confusion tables of all runs."""
    rows: dict[str, list[tuple]] = {name: [] for name in TABLE_COLUMNS}
    for (fold, seed), records in sorted(runs.items()):
        rows["curve"] += [(t, fold, seed, *rest) for t, *rest in records.curve]
        rows["history"] += [(t, fold, seed, *rest) for t, *rest in records.history]
        rows["metrics"] += [(t, fold, seed, *rest) for t, *rest in records.final]
        rows["per_class"] += [(t, fold, seed, *rest) for t, *rest in records.per_class]
        rows["confusion"] += [(t, fold, seed, *rest) for t, *rest in records.confusion]
    return {name: _table(rows[name], columns) for name, columns in TABLE_COLUMNS.items()}


TABLE_COLUMNS = {
    "metrics": METRICS_COLUMNS,
    "curve": CURVE_COLUMNS,
    "history": HISTORY_COLUMNS,
    "per_class": PER_CLASS_COLUMNS,
    "confusion": CONFUSION_COLUMNS,
}


def _table(rows: list[tuple], dtypes: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(dtypes)).astype(dtypes)


def measure_latencies_ms(
    models: list[MultiTaskNet], input_shape: InputShape, rounds: int = 5, repeats: int = 20
) -> list[float]:
    """Median CPU time (ms) of one forward pass of a single input row through each model, in eval
    mode. After a warm-up of each, the models take turns in blocks of `repeats` passes, so that
    machine load affects them alike; pass-by-pass turns would measure cache misses instead."""
    x = torch.zeros(1, *input_shape)
    times: list[list[float]] = [[] for _ in models]
    for model in models:
        model.eval()
    with torch.no_grad():
        for model in models:
            for _ in range(repeats):  # warm-up: the first passes set up kernels and buffers
                model(x)
        for _ in range(rounds):
            for model, kept in zip(models, times):
                for i in range(repeats + 3):
                    start = time.perf_counter()
                    model(x)
                    if i >= 3:
                        kept.append((time.perf_counter() - start) * 1000.0)
    return [statistics.median(kept) for kept in times]


def _figures(model: MultiTaskNet, input_shape: InputShape, latency: float) -> dict[str, float]:
    return {
        "n_parameters": count_parameters(model),
        "flops_per_clip": count_multiply_adds(model, input_shape),
        "latency_ms_per_clip": latency,
    }


def efficiency_figures(
    tasks: list[Task],
    n_train: dict[int, dict[str, int]],
    input_shape: InputShape,
    model_config: Mapping,
    threads: int,
) -> dict[str, Any]:
    """Parameters, multiply-adds and latency per input row of the model (freshly built); for a
    pair model the same for its two single-task models and the ratios `vs_two_singles`."""
    seeds = RunSeeds(seed=0, fold=0)
    model = build_model(model_config, input_shape, {t.name: t.n_outputs for t in tasks}, seeds)
    singles = [build_model(model_config, input_shape, {t.name: t.n_outputs}, seeds) for t in tasks]
    compared = [model] + singles if len(tasks) == 2 else [model]
    latencies = measure_latencies_ms(compared, input_shape)
    pair = _figures(model, input_shape, latencies[0])
    per_fold = {t.name: {str(f): counts[t.name] for f, counts in n_train.items()} for t in tasks}
    figures: dict[str, Any] = {
        "model_type": model_config["type"],
        "input_shape": list(input_shape),
        "n_features": int(math.prod(input_shape)),
        **pair,
        "n_train_clips": {t: statistics.mean(v.values()) for t, v in per_fold.items()},
        "n_train_clips_per_fold": per_fold,
        "latency_threads": threads,
    }
    if len(tasks) == 2:
        both = [_figures(m, input_shape, lat) for m, lat in zip(singles, latencies[1:])]
        figures["two_singles"] = {key: both[0][key] + both[1][key] for key in pair}
        figures["vs_two_singles"] = {
            key: pair[key] / figures["two_singles"][key] for key in pair
        }
    return figures


def _gate_summary(records: dict[tuple[int, int], RunRecords]) -> dict[str, list[float]]:
    """Mean fraction of open adapter gates per layer and task over the runs."""
    per_task: dict[str, list[list[float]]] = {}
    for run in records.values():
        for task, fractions in run.gates.items():
            per_task.setdefault(task, []).append(fractions)
    return {task: np.mean(runs, axis=0).tolist() for task, runs in per_task.items()}


def train_study_model(
    tasks: dict[str, dict],
    manifests: dict[str, str],
    features: dict[str, str],
    splits: dict[str, str],
    out_dir: str,
    model: dict,
    training: dict,
    checkpoint_dir: str | None = None,
    checkpoints: Mapping[str, Any] | None = None,
    threads: int = 1,
    progress: bool = True,
    on_epoch_end: EpochCallback | None = None,
    clip_rows: dict[str, str] | None = None,
) -> None:
    """Train one single- or dual-task model on every (fold, seed) and write its outputs.

    tasks: {task: {"dataset", "label", options}} (1 or 2 tasks, docs/contracts.md "Tasks");
    manifests, features and splits: {dataset: path}; clip_rows: {dataset: path of the `.clips.npy`
    giving the manifest row of every feature row} (default: one row per clip, in manifest order).
    Writes metrics, curve, history, per_class and confusion (.parquet) and efficiency.json into
    `out_dir`. With `checkpoint_dir`, runs are checkpointed on the schedule `checkpoints`
    (`{every_epochs, every_seconds}`, `CheckpointSchedule`; default every 60 s) and on SIGTERM,
    and a rerun resumes where the last checkpoint stopped; the checkpoints are deleted once the
    outputs are written. `on_epoch_end` is called at the end of every epoch, after its checkpoint
    when one is due (tests use it to simulate interruptions).
    """
    check_model_config(model)
    config = TrainingConfig.from_mapping(training)
    options = DataOptions.from_training(training)
    datasets, task_list = load_inputs(tasks, manifests, features, splits, clip_rows, options)
    folds = common_folds(datasets)
    runs = [(fold, seed) for fold in folds for seed in config.seeds]
    checkpointer = None
    if checkpoint_dir is not None:
        roles = {"manifest": manifests, "features": features, "splits": splits,
                 "clip_rows": clip_rows or {}}
        inputs = {f"{d}/{role}": paths[d] for role, paths in roles.items() for d in datasets
                  if d in paths}
        store = CheckpointStore(
            checkpoint_dir, lambda: run_fingerprint(tasks, model, training, inputs)
        )
        checkpointer = Checkpointer(store, CheckpointSchedule.from_mapping(checkpoints))
    n_train: dict[int, dict[str, int]] = {}
    records: dict[tuple[int, int], RunRecords] = {}
    input_shape = next(iter(datasets.values())).store.row_shape
    with torch_settings(threads), (checkpointer.on_sigterm() if checkpointer else nullcontext()):
        bar = tqdm(runs, desc=Path(out_dir).name, unit="run", disable=not progress, file=sys.stderr)
        fold_data: FoldData | None = None
        for fold, seed in bar:
            if fold_data is None or fold_data.fold != fold:
                fold_data = build_fold(datasets, task_list, fold, options)
                n_train[fold] = fold_data.n_train
            records[(fold, seed)] = train_run(
                task_list, fold_data, seed, model, config, checkpointer, on_epoch_end
            )
        efficiency = efficiency_figures(task_list, n_train, input_shape, model, threads)
    if config.early_stopping is not None:
        efficiency["best_epoch"] = {
            f"{fold}/{seed}": run.best_epoch for (fold, seed), run in sorted(records.items())
        }
    gates = _gate_summary(records)
    if gates:
        efficiency["adapter_open_fraction"] = gates
    out = Path(out_dir)
    for name, table in records_tables(records).items():
        write_table(table, out / f"{name}.parquet")
    write_json(efficiency, out / "efficiency.json")
    if checkpointer is not None:  # only now: a job killed before this point resumes
        checkpointer.store.clear(runs)
    logger.info("wrote %s (%d runs)", out, len(runs))
