"""Cost accounting: CPU seconds per path from Snakemake benchmark files."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.stats.cost import AFFINITY, PROBE, cost_table


def benchmark(folder, kind, name, cpu, wall=10.0):
    path = folder / "train_model" / kind / f"{name}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{"s": wall, "h:m:s": "0:00:10", "max_rss": 1, "cpu_time": cpu}]).to_csv(path, sep="\t", index=False)


def test_all_pairs_are_estimated_from_the_trained_ones_in_a_budgeted_study(tmp_path):
    for task in "abcd":
        benchmark(tmp_path, "single", task, 1.0)
    benchmark(tmp_path, "pair", "a__b", 2.0)
    benchmark(tmp_path, "pair", "c__d", 4.0)
    benchmark(tmp_path, "group", "a__b__c", 5.0)
    (tmp_path / "affinity.tsv").write_text("s\tcpu_time\n3.0\t1.5\n")
    all_pairs = ["a__b", "a__c", "a__d", "b__c", "b__d", "c__d"]
    (tmp_path / "probe_cost.json").write_text('{"probe_cpu_s": 0.75}')
    table = cost_table(tmp_path, list("abcd"), all_pairs, ["a__b", "c__d"], ["a__b__c"],
                       tmp_path / "probe_cost.json").set_index("path")
    assert table.loc["single-task models", "cpu_seconds"] == 4.0
    assert table.loc["pairs trained", "cpu_seconds"] == 6.0
    assert table.loc["all pairs", "cpu_seconds"] == pytest.approx(18.0)
    assert table.loc["all pairs", "estimated"] and table.loc["all pairs", "models"] == 6
    assert table.loc["task groups", "cpu_seconds"] == 5.0
    assert table.loc[AFFINITY, "cpu_seconds"] == 1.5
    assert table.loc[PROBE, "cpu_seconds"] == 0.75 and table.loc[PROBE, "models"] == 0
    assert table.loc[PROBE, "share_of_all_pairs"] == pytest.approx(0.75 / 18.0)
    assert table.loc["pairs trained", "share_of_all_pairs"] == pytest.approx(1 / 3)


def test_every_pair_trained_is_measured_not_estimated(tmp_path):
    benchmark(tmp_path, "pair", "a__b", 2.0)
    table = cost_table(tmp_path, [], ["a__b"], ["a__b"], None).set_index("path")
    assert "task groups" not in table.index and PROBE not in table.index
    assert not table.loc["all pairs", "estimated"] and table.loc["all pairs", "cpu_seconds"] == 2.0
