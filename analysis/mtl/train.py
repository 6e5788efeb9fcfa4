"""Training of the single-, dual- and many-task models of the study (hard parameter sharing).

`train_study_model` is what the Snakemake rule calls: for every test fold and seed it trains one
model on the training parts of the tasks' datasets, records the per-step training loss of each task
and the test-fold scores after every epoch, and writes the tables of `docs/contracts.md` (Models).

A run trains a fixed number of epochs (`analysis.mtl.batching`: with the default `budget` batching
a task gets the same updates and rows per update in every model), or stops early when
`training.early_stopping` is set (`analysis.mtl.stopping`: every task scored at its own best epoch,
chosen on its own validation clips). The metrics table records, per task, the updates and rows per
update behind the scored weights and the epoch they come from.
"""

from __future__ import annotations

import copy
import logging
import sys
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from analysis.io import write_json, write_table
from analysis.mtl.batching import Sampler, UpdateCounts, make_sampler
from analysis.mtl.checkpoints import (
    Checkpointer,
    CheckpointSchedule,
    CheckpointStore,
    run_fingerprint,
)
from analysis.mtl.data import FoldData, build_fold, common_folds, load_inputs
from analysis.mtl.efficiency import efficiency_figures
from analysis.mtl.layers import model_device
from analysis.mtl.losses import LossCombiner, build_loss_combiner, task_weights
from analysis.mtl.metrics import METRICS, TaskReport, evaluate, final_evaluation
from analysis.mtl.models import MultiTaskNet, build_model, check_model_config
from analysis.mtl.optimizers import OPTIMIZERS
from analysis.mtl.records import RunRecords, gate_summary, records_tables
from analysis.mtl.runtime import device_record, log_startup, resolve_device, torch_settings
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.settings import TrainingSettings
from analysis.mtl.stopping import StopState, split_validation, validation_losses
from analysis.mtl.tasks import MISSING, Task
from analysis.mtl.variances import layer_variances

logger = logging.getLogger(__name__)

VALIDATION_METRIC = "validation_loss"


@dataclass(frozen=True)
class EpochEnd:
    """What an `on_epoch_end` callback sees after an epoch is trained, evaluated and saved."""

    fold: int
    seed: int
    epoch: int  # 1-based: the number of epochs done
    scores: dict[str, dict[str, float]]  # {task: {metric: value}}


EpochCallback = Callable[[EpochEnd], None]
# A probe (analysis.mtl.affinity) sees the model and batch before steps; a factory gives one per run.
StepProbe = Callable[[torch.nn.Module, list[Task], torch.Tensor, torch.Tensor, int], None]
ProbeFactory = Callable[[int, int], StepProbe]  # (fold, seed) -> the run's probe


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
    counts: UpdateCounts = field(default_factory=UpdateCounts)
    task_names: tuple[str, ...] = ()
    probe: StepProbe | None = None  # measures the model before some steps; changes nothing

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
            "counts": self.counts.state_dict(),
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
        self.stop = StopState.from_state(state["stop"])
        self.counts.load_state_dict(state["counts"])
        self.model.set_progress(self.step / self.total_steps)

    @property
    def stopped(self) -> bool:
        """Early stopping's patience is used up."""
        return self.patience is not None and self.stop.all_done(list(self.task_names))


# One run ----------------------------------------------------------------------------------------

def new_run_state(
    tasks: list[Task],
    fold: FoldData,
    model_config: Mapping,
    config: TrainingSettings,
    seeds: RunSeeds,
    train_positions: torch.Tensor,
) -> RunState:
    """A freshly initialised run: model, optimizer, batch order and dropout generators."""
    head_sizes = {task.name: task.n_outputs for task in tasks}
    device = resolve_device(config.device)
    # initialised on the CPU from the run's generators, then moved: the same weights on any device
    model = build_model(model_config, fold.input_shape, head_sizes, seeds).to(device)
    dropout = seeds.dropout()
    model.set_dropout_generator(dropout)
    combiner = build_loss_combiner(
        config.loss_weighting, [t.name for t in tasks], dict(config.loss_weights)
    ).to(device)
    parameters = list(model.parameters()) + list(combiner.parameters())
    optimizer = OPTIMIZERS[config.optimizer](parameters, config)
    labelled = {
        task.name: fold.train_y[train_positions, column] != MISSING
        for column, task in enumerate(tasks)
    }
    batches = make_sampler(
        config.batching, train_positions, labelled, config.batch_size, seeds.batches(),
        seeds.task_batches,
    )
    total_steps = config.epochs * batches.steps_per_epoch()
    patience = config.early_stopping.patience if config.early_stopping is not None else None
    return RunState(
        model, optimizer, batches, combiner, dropout, max(1, total_steps), patience=patience,
        task_names=tuple(head_sizes),
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
    device = model_device(state.model)
    for batch in state.batches.batches():
        x, y = fold.batch(batch.rows)
        y = batch.targets(y)  # budget batching: each row trains its own task only
        x, y = x.to(device), y.to(device)  # no copy on the CPU
        if state.probe is not None:
            state.probe(state.model, tasks, x, y, state.step)
        losses = train_step(state, tasks, x, y, batch.tasks)
        state.counts.add(y, state.task_names, losses)
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
    state.stop.update(losses, state.epoch, state.model, state.patience or 1)


def _finish(state: RunState, tasks: list[Task], fold: FoldData) -> RunRecords:
    """Score every task with the weights of its own best epoch (the last one without early
    stopping), and record the updates and rows per update those weights had of the task."""
    records = state.records
    reports: dict[str, TaskReport] = {}
    last = copy.deepcopy(state.model.state_dict()) if state.stop.tasks else None
    for task in tasks:
        stop = state.stop.tasks.get(task.name)
        if stop is not None and stop.best_model is not None:
            state.model.load_state_dict(stop.best_model)
        elif last is not None:
            state.model.load_state_dict(last)
        reports.update(final_evaluation(state.model, [task], fold))
        variances = layer_variances(state.model, {task.name: fold.test[task.name].batches()})
        records.variances += list(variances.itertuples(index=False, name=None))
        epoch = state.stop.best_epoch(task.name) or state.epoch
        records.best_epochs[task.name] = epoch
        updates, rows = state.counts.at(epoch, task.name)
        records.final += [(task.name, "updates", float(updates)),
                          (task.name, "rows_per_update", rows),
                          (task.name, "scored_epoch", float(epoch))]
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
    config: TrainingSettings,
    checkpoints: Checkpointer | None = None,
    on_epoch_end: EpochCallback | None = None,
    probes: ProbeFactory | None = None,
) -> RunRecords:
    """Train (or resume, or skip if finished) the run (fold, seed) and return its records."""
    seeds = RunSeeds(seed=seed, fold=fold.fold)
    all_positions = torch.arange(fold.n_rows)
    validation = None
    if config.early_stopping is not None:
        training_part, validation = split_validation(
            fold, config.early_stopping.validation_fraction, seed,
            sorted({task.dataset for task in tasks}),
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
        state.probe = probes(fold.fold, seed) if probes is not None else None
        log_startup()
        while state.epoch < config.epochs and not state.stopped:
            train_epoch(state, tasks, fold)
            state.epoch += 1
            state.counts.end_epoch(state.epoch)
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
                "fold %d seed %d: stopped after epoch %d; best epochs %s", fold.fold, seed,
                state.epoch, {t: s.best_epoch for t, s in state.stop.tasks.items()},
            )
        return _finish(state, tasks, fold)


def _finished_or_trained(
    tasks: list[Task], fold: FoldData, seed: int, model_config: Mapping, config: TrainingSettings,
    checkpoints: Checkpointer | None, on_epoch_end: EpochCallback | None,
    probes: ProbeFactory | None = None,
) -> RunRecords:
    """The records of run (fold, seed): those saved when it finished in an earlier attempt, or
    those of training it (saved as soon as it finishes, when there are checkpoints)."""
    if checkpoints is None:
        return train_run(tasks, fold, seed, model_config, config, None, on_epoch_end, probes)
    finished = checkpoints.store.load_finished(fold.fold, seed)
    if finished is not None:
        logger.info("fold %d seed %d: finished in an earlier attempt", fold.fold, seed)
        return RunRecords.from_state(finished)
    records = train_run(tasks, fold, seed, model_config, config, checkpoints, on_epoch_end, probes)
    checkpoints.store.save_finished(fold.fold, seed, records.to_state())
    return records


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
    probes: ProbeFactory | None = None,
    first_folds: int | None = None,
) -> None:
    """Train one model of one or more tasks on every (fold, seed) and write its outputs.

    tasks: {task: {"dataset", "label", options}} (docs/contracts.md "Tasks");
    manifests, features and splits: {dataset: path}; clip_rows: {dataset: path of the `.clips.npy`
    giving the manifest row of every feature row} (default: one row per clip, in manifest order).
    Writes metrics, curve, history, per_class, confusion and variances (.parquet) and
    efficiency.json into `out_dir`. With `checkpoint_dir`, runs are checkpointed on the schedule `checkpoints`
    (`{every_epochs, every_seconds}`, `CheckpointSchedule`; default every 60 s) and on SIGTERM,
    and a rerun resumes where the last checkpoint stopped; the checkpoints are deleted once the
    outputs are written (each finished run's records stay). `on_epoch_end` is called at the end of every epoch, after its checkpoint
    when one is due (tests use it to simulate interruptions). `probes(fold, seed)` gives a run's
    step probe (task affinity, analysis.mtl.affinity), which must leave the model unchanged.
    """
    check_model_config(model)
    config = TrainingSettings.from_config(training)
    task_weights([], dict(config.loss_weights))  # checks the task names' weights
    datasets, task_list = load_inputs(tasks, manifests, features, splits, clip_rows, config)
    folds = common_folds(datasets)[:first_folds]  # first_folds: only the first N test folds
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
                fold_data = build_fold(datasets, task_list, fold, config)
                n_train[fold] = fold_data.n_train
            records[(fold, seed)] = _finished_or_trained(
                task_list, fold_data, seed, model, config, checkpointer, on_epoch_end, probes
            )
        efficiency = efficiency_figures(task_list, n_train, input_shape, model)
        efficiency["device"] = device_record(resolve_device(config.device))
    if config.early_stopping is not None:
        efficiency["best_epoch"] = {
            f"{fold}/{seed}": run.best_epochs for (fold, seed), run in sorted(records.items())
        }
    gates = gate_summary(records)
    if gates:
        efficiency["adapter_open_fraction"] = gates
    out = Path(out_dir)
    for name, table in records_tables(records).items():
        write_table(table, out / f"{name}.parquet")
    write_json(efficiency, out / "efficiency.json")
    if checkpointer is not None:  # only now: a job killed before this point resumes
        checkpointer.store.clear(runs)
    logger.info("wrote %s (%d runs)", out, len(runs))
