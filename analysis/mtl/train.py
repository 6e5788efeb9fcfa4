"""Training of the single- and dual-task models of the study (hard parameter sharing).

`train_study_model` is what the Snakemake rule calls: for every test fold and seed it trains one
model on the training parts of the tasks' datasets, records the per-step training loss of each task
and the test-fold scores after every epoch, and writes the tables of `docs/contracts.md` (Models).
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pandas as pd
import torch
from tqdm import tqdm

from analysis.errors import StudyInputError
from analysis.io import write_json, write_table
from analysis.mtl.batching import ShuffledBatches
from analysis.mtl.checkpoints import CheckpointStore, run_fingerprint
from analysis.mtl.data import FoldData, build_fold, common_folds, load_inputs
from analysis.mtl.losses import LossCombiner, build_loss_combiner
from analysis.mtl.metrics import METRICS, evaluate, quick_scores
from analysis.mtl.models import (
    SharedTrunkNet,
    build_model,
    check_model_config,
    count_multiply_adds,
    count_parameters,
)
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.tasks import MulticlassTask

logger = logging.getLogger(__name__)

RUN_COLUMNS = {"task": str, "fold": "int64", "seed": "int64"}
METRICS_COLUMNS = {**RUN_COLUMNS, "metric": str, "value": "float64"}
CURVE_COLUMNS = {**RUN_COLUMNS, "step": "int64", "loss": "float64"}
HISTORY_COLUMNS = {**RUN_COLUMNS, "epoch": "int64", "metric": str, "value": "float64"}

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str = "adam"
    weight_decay: float = 0.0
    seeds: tuple[int, ...] = (0,)
    loss_weighting: str = "sum"

    @classmethod
    def from_mapping(cls, training: Mapping[str, Any]) -> "TrainingConfig":
        for key in ("epochs", "batch_size", "learning_rate"):
            if key not in training:
                raise StudyInputError(f"training.{key} is missing")
        config = cls(
            epochs=int(training["epochs"]),
            batch_size=int(training["batch_size"]),
            learning_rate=float(training["learning_rate"]),
            optimizer=str(training.get("optimizer", "adam")),
            weight_decay=float(training.get("weight_decay", 0.0)),
            seeds=tuple(int(s) for s in training.get("seeds", [0])),
            loss_weighting=str(training.get("loss_weighting", "sum")),
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
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise StudyInputError(f"training.seeds must be distinct and non-empty: {self.seeds}")
        build_loss_combiner(self.loss_weighting)


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


@dataclass
class RunState:
    """Everything that changes while a run trains, and is saved in its checkpoint."""

    model: SharedTrunkNet
    optimizer: torch.optim.Optimizer
    batches: ShuffledBatches
    combiner: LossCombiner
    dropout: torch.Generator
    epoch: int = 0
    step: int = 0
    records: RunRecords = field(default_factory=RunRecords)

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


def new_run_state(
    tasks: list[MulticlassTask],
    fold: FoldData,
    model_config: Mapping,
    config: TrainingConfig,
    seeds: RunSeeds,
) -> RunState:
    """A freshly initialised run: model, optimizer, batch order and dropout generators."""
    head_sizes = {task.name: task.n_outputs for task in tasks}
    model = build_model(model_config, fold.train_x.shape[1], head_sizes, seeds)
    dropout = seeds.dropout()
    model.set_dropout_generator(dropout)
    optimizer = OPTIMIZERS[config.optimizer](
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    batches = ShuffledBatches(len(fold.train_x), config.batch_size, seeds.batches())
    return RunState(model, optimizer, batches, build_loss_combiner(config.loss_weighting), dropout)


def train_step(
    state: RunState, tasks: list[MulticlassTask], x: torch.Tensor, y: torch.Tensor
) -> dict[str, float]:
    """One optimisation step on a batch x (batch, n_features), y (batch, n_tasks); task losses."""
    logits = state.model(x)  # {task: (batch, n_outputs)}
    losses = {}
    for column, task in enumerate(tasks):
        loss = task.loss(logits[task.name], y[:, column])
        if loss is not None:
            losses[task.name] = loss
    if not losses:
        return {}
    state.optimizer.zero_grad(set_to_none=True)
    state.combiner(losses).backward()
    state.optimizer.step()
    return {task: float(loss.detach()) for task, loss in losses.items()}


def train_epoch(state: RunState, tasks: list[MulticlassTask], fold: FoldData) -> None:
    """One pass over the fold's training rows; the loss of each task at each step is recorded."""
    state.model.train()
    for rows in state.batches.epoch():
        losses = train_step(state, tasks, fold.train_x[rows], fold.train_y[rows])
        state.step += 1
        for task, loss in losses.items():  # a task absent from the batch gets no row
            state.records.curve.append((task, state.step, loss))


def record_scores(state: RunState, scores: dict[str, dict[str, float]]) -> None:
    for task, values in scores.items():
        for metric in METRICS:
            state.records.history.append((task, state.epoch, metric, values[metric]))


def train_run(
    tasks: list[MulticlassTask],
    fold: FoldData,
    seed: int,
    model_config: Mapping,
    config: TrainingConfig,
    store: CheckpointStore | None = None,
    on_epoch_end: EpochCallback | None = None,
) -> RunRecords:
    """Train (or resume, or skip if finished) the run (fold, seed) and return its records."""
    seeds = RunSeeds(seed=seed, fold=fold.fold)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seeds.global_seed())
        state = new_run_state(tasks, fold, model_config, config, seeds)
        saved = store.load(fold.fold, seed) if store is not None else None
        if saved is not None:
            state.load_state_dict(saved)
            logger.info("fold %d seed %d: resuming after epoch %d", fold.fold, seed, state.epoch)
        while state.epoch < config.epochs:
            train_epoch(state, tasks, fold)
            state.epoch += 1
            scores = evaluate(state.model, tasks, fold, quick_scores)
            record_scores(state, scores)
            if store is not None:
                store.save(fold.fold, seed, state.state_dict())
            if on_epoch_end is not None:
                on_epoch_end(EpochEnd(fold.fold, seed, state.epoch, scores))
        final = evaluate(state.model, tasks, fold)  # scikit-learn, on the trained model
    state.records.final = [(t, m, values[m]) for t, values in final.items() for m in METRICS]
    return state.records


def records_tables(runs: dict[tuple[int, int], RunRecords]) -> dict[str, pd.DataFrame]:
    """The metrics, curve and history tables of all runs, in (fold, seed) order."""
    curve, history, metrics = [], [], []
    for (fold, seed), records in sorted(runs.items()):
        curve += [(t, fold, seed, step, loss) for t, step, loss in records.curve]
        history += [(t, fold, seed, e, m, v) for t, e, m, v in records.history]
        metrics += [(t, fold, seed, m, v) for t, m, v in records.final]
    return {
        "metrics": _table(metrics, METRICS_COLUMNS),
        "curve": _table(curve, CURVE_COLUMNS),
        "history": _table(history, HISTORY_COLUMNS),
    }


def _table(rows: list[tuple], dtypes: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(dtypes)).astype(dtypes)


def measure_latency_ms(model: SharedTrunkNet, n_inputs: int, repeats: int = 200) -> float:
    """Median CPU time (ms) of one forward pass of a single clip, in eval mode."""
    x = torch.zeros(1, n_inputs)  # (1, n_features)
    model.eval()
    times = []
    with torch.no_grad():
        for i in range(repeats + 20):
            start = time.perf_counter()
            model(x)
            if i >= 20:  # the first passes warm up
                times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def efficiency_figures(
    tasks: list[MulticlassTask],
    n_train: dict[int, dict[str, int]],
    n_inputs: int,
    model_config: Mapping,
    threads: int,
) -> dict[str, Any]:
    """Size, multiply-adds and latency of the model; labelled training clips per task and fold."""
    head_sizes = {t.name: t.n_outputs for t in tasks}
    model = build_model(model_config, n_inputs, head_sizes, RunSeeds(seed=0, fold=0))
    per_fold = {t.name: {str(f): counts[t.name] for f, counts in n_train.items()} for t in tasks}
    return {
        "model_type": model_config["type"],
        "n_features": int(n_inputs),
        "n_parameters": count_parameters(model),
        "flops_per_clip": count_multiply_adds(model),
        "n_train_clips": {t: statistics.mean(v.values()) for t, v in per_fold.items()},
        "n_train_clips_per_fold": per_fold,
        "latency_ms_per_clip": measure_latency_ms(model, n_inputs),
        "latency_threads": threads,
    }


def train_study_model(
    tasks: dict[str, dict],
    manifests: dict[str, str],
    features: dict[str, str],
    splits: dict[str, str],
    out_dir: str,
    model: dict,
    training: dict,
    checkpoint_dir: str | None = None,
    threads: int = 1,
    progress: bool = True,
    on_epoch_end: EpochCallback | None = None,
) -> None:
    """Train one single- or dual-task model on every (fold, seed) and write its outputs.

    tasks: {task: {"dataset", "label"}} (1 or 2 tasks); manifests, features and splits:
    {dataset: path}.
    Writes metrics.parquet, curve.parquet, history.parquet and efficiency.json into `out_dir`.
    With `checkpoint_dir`, every epoch is checkpointed and a rerun resumes where it stopped.
    `on_epoch_end` is called after every epoch is saved (tests use it to simulate interruptions).
    """
    check_model_config(model)
    config = TrainingConfig.from_mapping(training)
    datasets, task_list = load_inputs(tasks, manifests, features, splits)
    folds = common_folds(datasets)
    runs = [(fold, seed) for fold in folds for seed in config.seeds]
    store = None
    if checkpoint_dir is not None:
        inputs = [p for d in datasets for p in (manifests[d], features[d], splits[d])]
        store = CheckpointStore(checkpoint_dir, run_fingerprint(tasks, model, training, inputs))
    n_train: dict[int, dict[str, int]] = {}
    records: dict[tuple[int, int], RunRecords] = {}
    n_inputs = next(iter(datasets.values())).features.shape[1]
    with torch_settings(threads):
        bar = tqdm(runs, desc=Path(out_dir).name, unit="run", disable=not progress, file=sys.stderr)
        fold_data: FoldData | None = None
        for fold, seed in bar:
            if fold_data is None or fold_data.fold != fold:
                fold_data = build_fold(datasets, task_list, fold)  # one fold in memory at a time
                n_train[fold] = fold_data.n_train
            records[(fold, seed)] = train_run(
                task_list, fold_data, seed, model, config, store, on_epoch_end
            )
        efficiency = efficiency_figures(task_list, n_train, n_inputs, model, threads)
    out = Path(out_dir)
    for name, table in records_tables(records).items():
        write_table(table, out / f"{name}.parquet")
    write_json(efficiency, out / "efficiency.json")
    if store is not None:
        store.clear(runs)
    logger.info("wrote %s (%d runs)", out, len(runs))
