"""The two transfer jobs of the study: pre-train a source task, transfer it to a target task.

`pretrain_study_source` trains the source task's model on every (fold, seed) of its dataset, as
its single-task model trains, and saves the weights (`results/transfer/pretrained/{task}.pt`).
`transfer_study_model` transfers them to a target task on the folds the two datasets share and the
same seeds (`analysis.mtl.transfer`), and writes `metrics.parquet` (docs/contracts.md, Transfer).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd
import torch

from analysis.errors import StudyInputError
from analysis.io import atomic_path, write_table
from analysis.mtl.data import build_fold, common_folds, load_inputs
from analysis.mtl.layers import SharedTrunkNet
from analysis.mtl.models import build_model
from analysis.mtl.runtime import torch_settings
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.settings import ModelSettings, TrainingSettings
from analysis.mtl.transfer import TransferSettings, pretrain, transfer_models

logger = logging.getLogger(__name__)

TRANSFER_COLUMNS = {"source": str, "task": str, "method": str, "cost": "float64", "fold": "int64",
                    "seed": "int64", "metric": str, "value": "float64"}
CHANGED_SHARE = "changed_share"  # the metric row of the realised share of changed parameters


TRANSFER_MODEL_TYPES = ("dnn", "cnn")  # a shared trunk and one head per task


def check_transfer_training(config: TrainingSettings, model: dict) -> None:
    """Transfer needs a shared-trunk model, and trains every epoch: with early stopping its budget
    would not be the single-task model's, and its gain would mix transfer with a different budget."""
    model_type = ModelSettings.from_config(model).type
    if model_type not in TRANSFER_MODEL_TYPES:
        raise StudyInputError(
            f"config: transfer.enabled needs model.type {' or '.join(TRANSFER_MODEL_TYPES)} (a "
            f"shared trunk and task heads); model.type is {model_type!r}"
        )
    if config.early_stopping is not None:
        raise StudyInputError(
            "config: transfer.enabled needs training without early stopping (training."
            "early_stopping), so that a transferred model has its target's single-task budget"
        )


def _inputs(task: dict[str, dict], paths: dict[str, dict[str, str]], config: TrainingSettings):
    """(datasets, [task]) of one task; paths: {"manifests"|"features"|"splits"|"clip_rows": {dataset: path}}."""
    return load_inputs(task, paths["manifests"], paths["features"], paths["splits"],
                       paths.get("clip_rows"), config)


def pretrain_study_source(
    task: dict[str, dict], paths: dict[str, dict[str, str]], out_path: str, model: dict,
    training: dict, threads: int = 1,
) -> None:
    """Pre-train the one task of `task` ({name: spec}) on every fold and seed; save the weights."""
    config = TrainingSettings.from_config(training)
    check_transfer_training(config, model)
    datasets, (source,) = _inputs(task, paths, config)
    runs = {}
    with torch_settings(threads):
        for fold in common_folds(datasets):
            fold_data = build_fold(datasets, [source], fold, config)
            for seed in config.seeds:
                net = pretrain(source, fold_data, model, config, seed)
                runs[f"{fold}/{seed}"] = {k: v.cpu() for k, v in net.state_dict().items()}
    saved = {"task": source.name, "n_outputs": source.n_outputs, "model": model,
             "input_shape": list(fold_data.input_shape), "runs": runs}
    with atomic_path(out_path) as tmp:
        torch.save(saved, tmp)
    logger.info("pre-trained %s on %d runs", source.name, len(runs))


def load_pretrained(saved: dict, fold: int, seed: int) -> SharedTrunkNet:
    """The pre-trained network of (fold, seed) from a `pretrain_study_source` file's contents."""
    net = build_model(saved["model"], tuple(saved["input_shape"]),
                      {saved["task"]: saved["n_outputs"]}, RunSeeds(seed=seed, fold=fold))
    net.load_state_dict(saved["runs"][f"{fold}/{seed}"])
    return net


def transfer_study_model(
    target: dict[str, dict], pretrained_path: str, paths: dict[str, dict[str, str]], out_dir: str,
    model: dict, training: dict, transfer: dict, threads: int = 1,
) -> None:
    """Transfer the pre-trained source to the one task of `target` on every shared fold and seed."""
    config = TrainingSettings.from_config(training)
    check_transfer_training(config, model)
    settings = TransferSettings.from_config(transfer)
    saved = torch.load(pretrained_path, map_location="cpu", weights_only=False)
    datasets, (task,) = _inputs(target, paths, config)
    pretrained_folds = {int(key.split("/")[0]) for key in saved["runs"]}
    folds = [fold for fold in common_folds(datasets) if fold in pretrained_folds]
    rows = []
    with torch_settings(threads):
        for fold in folds:
            fold_data = build_fold(datasets, [task], fold, config)
            for seed in config.seeds:
                net = load_pretrained(saved, fold, seed)
                for result in transfer_models(net, task, fold_data, model, config, settings, seed):
                    key = (saved["task"], task.name, result.method, result.cost, fold, seed)
                    rows += [(*key, metric, value) for _, metric, value in result.final]
                    rows.append((*key, CHANGED_SHARE, result.realised_cost))
    table = pd.DataFrame(rows, columns=list(TRANSFER_COLUMNS)).astype(TRANSFER_COLUMNS)
    write_table(table, Path(out_dir) / "metrics.parquet")
    logger.info("transferred %s to %s on %d folds", saved["task"], task.name, len(folds))


def is_reference(cost: float) -> bool:
    return math.isnan(cost)
