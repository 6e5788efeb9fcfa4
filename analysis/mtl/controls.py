"""Control auxiliary tasks: a task's own clips with its labels shuffled ("no information").

With `controls: true` the study adds, for every task `t`, the control task `t_control` (the suffix
is reserved: no configured task name may end with it). It reads the same clips and labels as `t`,
but in every fold the labels are permuted among the labelled training clips, and separately among
the labelled test clips, with a generator seeded by the control's name and the fold only. The
class frequencies of each part stay exactly those of `t`, every link between a clip's audio and its
label is broken, and the numbers are the same in every model and on every run. The control gets a
single-task model and one pair model, `(t, t_control)`; its gains flow through the study tables like
any pair's (docs/contracts.md, "Controls").
"""

from __future__ import annotations

import numpy as np

CONTROL_SUFFIX = "_control"


def control_name(task: str) -> str:
    return f"{task}{CONTROL_SUFFIX}"


def is_control(task: str) -> bool:
    return task.endswith(CONTROL_SUFFIX)


def involves_control(main, aux) -> np.ndarray:
    """Boolean mask of the (main, aux) pairs of two equal-length sequences with a control task."""
    return np.array([is_control(str(m)) or is_control(str(a)) for m, a in zip(main, aux)],
                    dtype=bool)


def control_base(task: str) -> str:
    """The task a control shuffles: `t_control` -> `t`."""
    if not is_control(task):
        raise ValueError(f"{task!r} is not a control task (no {CONTROL_SUFFIX!r} suffix)")
    return task[: -len(CONTROL_SUFFIX)]


def shuffle_codes(codes: np.ndarray, clip_folds: np.ndarray, fold: int, task: str) -> np.ndarray:
    """`codes` (n_clips,) with the labelled codes permuted within the training clips of `fold`
    (`clip_folds != fold`) and within its test clips; MISSING clips stay as they are."""
    # imported here: the workflow reads the names above while parsing, without loading torch
    import torch

    from analysis.mtl.seeding import make_generator
    from analysis.mtl.tasks import MISSING

    shuffled = codes.copy()
    generator = make_generator("control", task, fold)
    for part in (clip_folds != fold, clip_folds == fold):
        where = np.flatnonzero(part & (codes != MISSING))
        order = torch.randperm(len(where), generator=generator).numpy()
        shuffled[where] = codes[where[order]]
    return shuffled
