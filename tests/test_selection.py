"""Budgeted studies (config `pairs`): which pair models are chosen, and the predicted gains."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pandas as pd
import pytest

from analysis.config import section
from analysis.errors import StudyInputError
from analysis.meta.gain_prediction import predict_gains
from analysis.meta.selection import (
    choices_with_gains,
    chosen_pairs,
    pair_choices,
    select_pairs,
    top_partners,
)

TASKS = ["a", "b", "c", "d", "e"]


def scores(values: dict[tuple[str, str], float], column: str = "lookahead") -> pd.DataFrame:
    rows = [{"main": m, "aux": a, column: values.get((m, a), 0.0)} for m, a in permutations(TASKS, 2)]
    return pd.DataFrame(rows)


def test_each_main_task_keeps_its_k_best_partners():
    table = scores({("a", "b"): 3, ("a", "c"): 2, ("a", "d"): 1, ("b", "a"): 5, ("b", "e"): 4})
    partners = top_partners(table, TASKS, 2, "lookahead")
    assert partners["a"] == ["b", "c"]
    assert partners["b"] == ["a", "e"]
    assert all(len(auxes) == 2 for auxes in partners.values())


def test_a_pair_two_tasks_pick_for_each_other_is_one_model():
    partners = {"a": ["b"], "b": ["a"], "c": ["a"]}
    assert chosen_pairs(partners) == [("a", "b"), ("a", "c")]
    assert list(pair_choices(partners)["rank"]) == [1, 1, 1]


@pytest.mark.parametrize("k", [1, 2, 3])
def test_at_most_k_pair_models_per_main_task(k):
    rng = np.random.default_rng(k)
    table = scores({pair: rng.normal() for pair in permutations(TASKS, 2)})
    pairs = select_pairs(table, TASKS, k, "affinity")
    assert len(pairs) <= len(TASKS) * k
    partners = top_partners(table, TASKS, k, "lookahead")
    assert {tuple(sorted((m, a))) for m, auxes in partners.items() for a in auxes} == set(pairs)


def test_ties_do_not_depend_on_row_order():
    table = scores({})
    shuffled = table.sample(frac=1, random_state=0)
    assert select_pairs(table, TASKS, 2, "affinity") == select_pairs(shuffled, TASKS, 2, "affinity")


def test_tasks_outside_the_study_and_missing_scores_are_ignored():
    table = pd.concat([scores({("a", "b"): 1}), pd.DataFrame([{"main": "a", "aux": "a_control", "lookahead": 9}])])
    assert top_partners(table, TASKS, 1, "lookahead")["a"] == ["b"]


def test_a_missing_score_column_names_it():
    with pytest.raises(StudyInputError, match="predicted_gain"):
        select_pairs(scores({}), TASKS, 2, "predicted")


def test_predicted_gains_rank_unmeasured_pairs_by_the_fitted_relation():
    features = pd.DataFrame([{"main": m, "aux": a, "x": TASKS.index(a) - TASKS.index(m)}
                             for m, a in permutations(TASKS, 2)])
    measured = features[features["main"].isin(["a", "b", "c"]) & features["aux"].isin(["a", "b", "c"])]
    measured = measured.assign(measured_gain=0.1 * measured["x"])[["main", "aux", "measured_gain"]]
    predicted = predict_gains(features, measured)
    best = predicted[predicted["main"] == "d"].iloc[0]
    assert best["aux"] == "e" and not best["measured"]
    assert predicted["measured"].sum() == len(measured)


def test_pairs_defaults_come_from_the_schema():
    assert section("pairs") == {"select": "all", "per_task": 2, "measured": []}
    assert section("groups", {"networks": 2}) == {"networks": 2, "from": "gains"}


@pytest.mark.parametrize(("field", "values", "message"), [
    ("pairs", {"select": "best"}, "pairs.select"),
    ("pairs", {"per_task": 0}, "pairs.per_task"),
    ("pairs", {"measured": [["a"]]}, "pairs.measured.0"),
    ("groups", {"networks": 0}, "groups.networks"),
    ("groups", {"from": "gains"}, "networks"),
    ("groups", {"networks": 2, "from": "pairs"}, "groups.from"),
])
def test_bad_budget_settings_name_the_field(field, values, message):
    with pytest.raises(StudyInputError, match=message.replace(".", r"\.")):
        section(field, values)


def test_choices_list_the_measured_gain_beside_the_score():
    table = scores({("a", "b"): 3, ("a", "c"): 2}, column="predicted_gain")
    gains = pd.DataFrame([{"main": "a", "aux": "b", "mean_gain": 0.1, "q_value": 0.01, "verdict": "gain"}])
    choices = choices_with_gains(table, gains, TASKS, 2, "predicted").set_index(["main", "aux"])
    assert choices.loc[("a", "b"), "score"] == 3 and choices.loc[("a", "b"), "verdict"] == "gain"
    assert pd.isna(choices.loc[("a", "c"), "mean_gain"])
