"""Budgeted studies: which pair models to train when not every pair is (config `pairs`).

Every main task keeps its `per_task` partners with the highest score (an affinity, or a predicted
gain); a pair model serves both of its tasks, so a pair two tasks pick for each other is trained once.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from analysis.errors import StudyInputError

SCORE_COLUMNS = {"affinity": "lookahead", "predicted": "predicted_gain"}


def top_partners(scores: pd.DataFrame, tasks: Iterable[str], per_task: int, column: str) -> dict[str, list[str]]:
    """main task -> its `per_task` partners (among `tasks`) with the highest `column`, best first.

    Ties are broken by the partner's name, so the choice does not depend on the row order."""
    tasks = set(tasks)
    missing = [column for column in ("main", "aux", column) if column not in scores.columns]
    if missing:
        raise StudyInputError(f"pair scores: missing column(s) {', '.join(missing)}")
    rows = scores[scores["main"].isin(tasks) & scores["aux"].isin(tasks) & (scores["main"] != scores["aux"])]
    rows = rows.dropna(subset=[column]).sort_values(["main", column, "aux"], ascending=[True, False, True])
    return {main: list(group["aux"].head(per_task)) for main, group in rows.groupby("main", sort=True)}


def chosen_pairs(partners: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The pair models (sorted task names) that serve every main task's chosen partners."""
    return sorted({tuple(sorted((main, aux))) for main, auxes in partners.items() for aux in auxes})


def pair_choices(partners: dict[str, list[str]]) -> pd.DataFrame:
    """One row per (main, aux) choice with its rank, for the report."""
    rows = [
        {"main": main, "aux": aux, "rank": rank}
        for main, auxes in sorted(partners.items())
        for rank, aux in enumerate(auxes, start=1)
    ]
    return pd.DataFrame(rows, columns=["main", "aux", "rank"])


def select_pairs(scores: pd.DataFrame, tasks: Iterable[str], per_task: int, select: str) -> list[tuple[str, str]]:
    """The pair models a budgeted study trains, from a table of ordered-pair scores."""
    return chosen_pairs(top_partners(scores, tasks, per_task, SCORE_COLUMNS[select]))


def choices_with_gains(scores: pd.DataFrame, pair_gains: pd.DataFrame, tasks: Iterable[str], per_task: int,
                       select: str) -> pd.DataFrame:
    """Each main task's chosen partners, their score (affinity or predicted gain) and, beside it, the
    measured mean gain and verdict of the pair (empty until the pair is trained)."""
    column = SCORE_COLUMNS[select]
    choices = pair_choices(top_partners(scores, tasks, per_task, column))
    choices = choices.merge(scores[["main", "aux", column]], on=["main", "aux"], how="left")
    measured = pair_gains[["main", "aux", "mean_gain", "q_value", "verdict"]]
    return choices.rename(columns={column: "score"}).assign(source=column).merge(
        measured, on=["main", "aux"], how="left")
