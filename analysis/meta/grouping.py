"""Task groups (config `groups`): a partition of the tasks into N networks, chosen from pair scores.

The score of an ordered pair (main, aux) is the measured mean gain of `main` when trained with `aux`
(`from: gains`, Standley et al. 2020) or TAG's inter-task affinity of `aux` on `main`
(`from: affinity`, Fifty et al. 2021). Both papers approximate a task's score in a group from its
pairs: Standley's pairwise approximation averages the main task's pair gains with the other members;
TAG sums the affinities onto the main task and normalises by the group size less one, which is the
same mean. A task alone in its group scores 0 (no change from its single-task model). A partition's
score is the sum of its tasks' scores.

Search: every partition into exactly N non-empty groups is enumerated while their number (the
Stirling number S(T, N)) is at most `exact_limit`; beyond, a beam search builds partitions task by
task (keeping the `beam` best partial partitions, scored on the tasks placed so far), and each
survivor is improved by hill climbing (moving one task to another group, or swapping two tasks of
different groups, while the score rises). Ties are broken by the sorted group names, so the answer
does not depend on the order of the input rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache

import numpy as np
import pandas as pd

from analysis.errors import StudyInputError

Partition = tuple[tuple[str, ...], ...]
EXACT_LIMIT = 200_000


def score_matrix(scores: pd.DataFrame, tasks: Sequence[str], column: str) -> np.ndarray:
    """S[i, j]: the score of main task i with auxiliary task j (missing pairs score 0)."""
    index = {task: i for i, task in enumerate(tasks)}
    matrix = np.zeros((len(tasks), len(tasks)))
    rows = scores[scores["main"].isin(index) & scores["aux"].isin(index) & (scores["main"] != scores["aux"])]
    for main, aux, value in rows[["main", "aux", column]].itertuples(index=False):
        if np.isfinite(value):
            matrix[index[main], index[aux]] = value
    return matrix


def group_task_scores(matrix: np.ndarray, members: Sequence[int]) -> np.ndarray:
    """Each member's estimated score in the group: the mean of its pair scores with the others."""
    members = list(members)
    if len(members) < 2:
        return np.zeros(len(members))
    block = matrix[np.ix_(members, members)]
    return block.sum(axis=1) / (len(members) - 1)


def partition_score(matrix: np.ndarray, groups: Sequence[Sequence[int]]) -> float:
    return float(sum(group_task_scores(matrix, group).sum() for group in groups))


@cache
def stirling2(n: int, k: int) -> int:
    """Number of partitions of n items into exactly k non-empty groups."""
    if n == k:
        return 1
    if k == 0 or k > n:
        return 0
    return k * stirling2(n - 1, k) + stirling2(n - 1, k - 1)


def partitions(n: int, k: int) -> Iterator[list[list[int]]]:
    """Every partition of range(n) into exactly k non-empty groups (restricted growth strings)."""
    def extend(item: int, groups: list[list[int]]) -> Iterator[list[list[int]]]:
        if n - item < k - len(groups):
            return
        if item == n:
            yield [list(group) for group in groups]
            return
        for group in groups:
            group.append(item)
            yield from extend(item + 1, groups)
            group.pop()
        if len(groups) < k:
            groups.append([item])
            yield from extend(item + 1, groups)
            groups.pop()
    yield from extend(0, [])


def _canonical(groups: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(sorted(tuple(sorted(group)) for group in groups if group))


def exact_search(matrix: np.ndarray, networks: int) -> tuple[tuple[int, ...], ...]:
    best, best_score = None, -np.inf
    for groups in partitions(len(matrix), networks):
        score = partition_score(matrix, groups)
        if score > best_score + 1e-12:
            best, best_score = _canonical(groups), score
    return best


def beam_search(matrix: np.ndarray, networks: int, beam: int = 32) -> list[tuple[tuple[int, ...], ...]]:
    """Partial partitions grown one task at a time; those that can no longer fill N groups are dropped."""
    n = len(matrix)
    states = [[]]
    for item in range(n):
        grown = {}
        for groups in states:
            options = [[*g[:i], [*group, item], *g[i + 1:]] for g in [groups] for i, group in enumerate(g)]
            if len(groups) < networks:
                options.append([*groups, [item]])
            for option in options:
                if len(option) + (n - item - 1) >= networks:
                    grown[_canonical(option)] = option
        ranked = sorted(grown, key=lambda key: (-partition_score(matrix, grown[key]), key))
        states = [grown[key] for key in ranked[:beam]]
    return [_canonical(groups) for groups in states]


def _neighbours(groups: tuple[tuple[int, ...], ...]) -> Iterator[tuple[tuple[int, ...], ...]]:
    """Partitions one move (a task to another group) or one swap away, with no group emptied."""
    for g, group in enumerate(groups):
        for item in group:
            for h in range(len(groups)):
                if h != g and len(group) > 1:
                    moved = [list(x) for x in groups]
                    moved[g].remove(item)
                    moved[h].append(item)
                    yield _canonical(moved)
                if h > g:
                    for other in groups[h]:
                        swapped = [list(x) for x in groups]
                        swapped[g][swapped[g].index(item)] = other
                        swapped[h][swapped[h].index(other)] = item
                        yield _canonical(swapped)


def hill_climb(matrix: np.ndarray, groups: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    score = partition_score(matrix, groups)
    while True:
        scored = [(partition_score(matrix, option), option) for option in set(_neighbours(groups))]
        best_score, best = max(scored, default=(-np.inf, None))
        if best is None or best_score <= score + 1e-12:
            return groups
        groups, score = best, best_score


def heuristic_search(matrix: np.ndarray, networks: int, beam: int = 32) -> tuple[tuple[int, ...], ...]:
    climbed = {hill_climb(matrix, start) for start in beam_search(matrix, networks, beam)}
    return max(climbed, key=lambda groups: (partition_score(matrix, groups), tuple(reversed(groups))))


def best_partition(scores: pd.DataFrame, tasks: Sequence[str], networks: int, column: str,
                   exact_limit: int = EXACT_LIMIT) -> tuple[Partition, str]:
    """The partition of `tasks` into `networks` groups with the highest estimated total score, and
    the search used ("exact" or "beam+hill-climbing")."""
    tasks = sorted(tasks)
    if not 1 <= networks <= len(tasks):
        raise StudyInputError(
            f"config groups.networks: {networks} networks for {len(tasks)} tasks; give a number from 1 "
            f"to {len(tasks)}"
        )
    matrix = score_matrix(scores, tasks, column)
    exact = stirling2(len(tasks), networks) <= exact_limit
    groups = exact_search(matrix, networks) if exact else heuristic_search(matrix, networks)
    named = tuple(sorted(tuple(tasks[i] for i in group) for group in groups))
    return named, "exact" if exact else "beam+hill-climbing"


def partition_table(scores: pd.DataFrame, partition: Partition, column: str, search: str) -> pd.DataFrame:
    """One row per task: its group (tasks joined by `__`), the group's size and the score its pairs
    predict for it in the group."""
    rows = []
    for group in partition:
        matrix = score_matrix(scores, list(group), column)
        for task, predicted in zip(group, group_task_scores(matrix, range(len(group)))):
            rows.append({"group": "__".join(group), "task": task, "size": len(group),
                         "predicted": float(predicted), "source": column, "search": search})
    return pd.DataFrame(rows, columns=["group", "task", "size", "predicted", "source", "search"])
