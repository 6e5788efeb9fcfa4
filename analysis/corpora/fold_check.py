"""Before a model trains: every fold's training part must hold every class of every task it trains.

A class missing from a training part cannot be predicted, so every test clip of it is scored wrong
and the run reports a meaningless score with exit code 0. The usual cause is speaker-independent
folds (`group_folds: true`) with a task on the group column itself (a speaker task): each speaker
is in one fold only, so the model never sees the test fold's speakers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.corpora.tasks import TaskSpec, individual_labels, task_labels
from analysis.errors import StudyInputError
from analysis.io import read_table

MAX_LISTED = 5


def check_training_classes(
    tasks: dict[str, dict[str, Any]], manifests: dict[str, str], splits: dict[str, str]
) -> None:
    """Raise StudyInputError naming the task, the fold and the classes a training part lacks.

    `tasks`: task name -> spec (`dataset`, `label`, options); `manifests` and `splits`: dataset ->
    the manifest and splits tables. Clips of fold -1 (never tested) are always training clips.
    """
    tables: dict[str, pd.DataFrame] = {}
    problems = []
    for name, spec in sorted(tasks.items()):
        dataset = spec["dataset"]
        if dataset not in tables:
            manifest = read_table(manifests[dataset])
            folds = read_table(splits[dataset])[["clip_id", "fold"]]
            tables[dataset] = manifest.merge(folds, on="clip_id", how="left", validate="one_to_one")
        if spec.get("type") == "detection":  # frame targets: every fold may lack an event class
            continue
        options = {key: value for key, value in spec.items() if key != "control"}  # same classes
        problems.extend(_missing_classes(TaskSpec.from_config(name, options), tables[dataset], splits[dataset]))
    if problems:
        raise StudyInputError("\n".join(problems))


def _missing_classes(task: TaskSpec, table: pd.DataFrame, splits_path: str) -> list[str]:
    labels = task_labels(table, task)
    per_clip = individual_labels(labels) if task.type == "multilabel" else labels.dropna()
    classes = set(per_clip)
    folds = table["fold"].fillna(-1).astype(int)
    problems = []
    for fold in sorted(f for f in folds.unique() if f >= 0):
        in_training = per_clip[folds.loc[per_clip.index] != fold]
        missing = sorted(classes - set(in_training))
        if missing:
            shown = ", ".join(repr(c) for c in missing[:MAX_LISTED])
            more = f", ... and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
            problems.append(
                f"{task.field}: the training part of fold {fold} ({splits_path}) has no clip of "
                f"{len(missing)} of its {len(classes)} classes ({shown}{more}), so the model cannot learn "
                "them and scores every test clip of them wrong. A task on the column that `group_folds` "
                "keeps together (e.g. a speaker task with speaker-independent folds) cannot be tested on "
                "unseen groups: drop the task, turn `group_folds` off, or group by another column."
            )
    return problems
