"""Task groups: the exact search finds a planted optimum; the heuristic matches it on small cases."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import StudyInputError
from analysis.meta.grouping import (
    best_partition,
    exact_search,
    heuristic_search,
    partition_score,
    partition_table,
    partitions,
    stirling2,
)


def pair_scores(tasks, value) -> pd.DataFrame:
    return pd.DataFrame([{"main": m, "aux": a, "gain": value(m, a)} for m, a in permutations(tasks, 2)])


def test_partitions_are_all_enumerated_once():
    for n, k in [(4, 2), (5, 3), (6, 2), (6, 4)]:
        seen = {tuple(sorted(tuple(g) for g in groups)) for groups in partitions(n, k)}
        assert len(seen) == stirling2(n, k)
        assert all(len(p) == k for p in seen)


def test_hand_checked_four_task_example():
    # a and b help each other (+2, +1), c and d help each other (+1, +1), every cross pair hurts (-1).
    helps = {("a", "b"): 2, ("b", "a"): 1, ("c", "d"): 1, ("d", "c"): 1}
    scores = pair_scores("abcd", lambda m, a: helps.get((m, a), -1))
    partition, search = best_partition(scores, list("abcd"), 2, "gain")
    assert partition == (("a", "b"), ("c", "d")) and search == "exact"
    table = partition_table(scores, partition, "gain", search)
    assert table.set_index("task")["predicted"].to_dict() == {"a": 2, "b": 1, "c": 1, "d": 1}


def test_exact_search_finds_a_planted_optimum():
    rng = np.random.default_rng(0)
    tasks = [f"t{i}" for i in range(8)]
    planted = [tasks[0:3], tasks[3:5], tasks[5:8]]
    group_of = {task: g for g, group in enumerate(planted) for task in group}
    scores = pair_scores(tasks, lambda m, a: (1.0 if group_of[m] == group_of[a] else -1.0) + 0.2 * rng.normal())
    partition, _ = best_partition(scores, tasks, 3, "gain")
    assert partition == tuple(sorted(tuple(group) for group in planted))


@pytest.mark.parametrize("seed", range(6))
def test_heuristic_matches_exact_on_small_cases(seed):
    rng = np.random.default_rng(seed)
    n, k = 7, 2 + seed % 3
    matrix = rng.normal(size=(n, n))
    np.fill_diagonal(matrix, 0)
    exact = exact_search(matrix, k)
    heuristic = heuristic_search(matrix, k)
    assert partition_score(matrix, heuristic) == pytest.approx(partition_score(matrix, exact))


def test_the_heuristic_is_used_beyond_the_exact_limit_and_finds_the_planted_groups():
    tasks = [f"t{i:02d}" for i in range(12)]
    scores = pair_scores(tasks, lambda m, a: 1.0 if int(m[1:]) // 4 == int(a[1:]) // 4 else -1.0)
    partition, search = best_partition(scores, tasks, 3, "gain", exact_limit=1000)
    assert search == "beam+hill-climbing"
    assert partition == tuple(tuple(tasks[i:i + 4]) for i in range(0, 12, 4))


def test_too_many_networks_names_the_field():
    with pytest.raises(StudyInputError, match=r"groups\.networks"):
        best_partition(pair_scores("abc", lambda m, a: 0.0), list("abc"), 4, "gain")
