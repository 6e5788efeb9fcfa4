"""What the affinity path cost against training the pairs, from Snakemake's benchmark files.

Every training job writes `results/benchmarks/<rule>/...tsv` (Snakemake's `benchmark:`), whose
`cpu_time` is the CPU seconds of the job's process (start-up, reading inputs and training) and `s`
its wall time. The probe's own CPU seconds are measured inside the affinity job
(`probe_cost.json`), so its share of that job is known apart from the training it rode on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.io import write_table

COST_COLUMNS = ["path", "jobs", "cpu_s", "wall_s", "share_of_pairs"]
PAIRS = "pair models (every pair trained)"


def benchmark_totals(paths: Sequence[str]) -> tuple[int, float, float]:
    """(jobs, CPU seconds, wall seconds) summed over benchmark files (each its last attempt)."""
    rows = [pd.read_csv(path, sep="\t").iloc[-1] for path in paths]
    return (len(rows), float(sum(row["cpu_time"] for row in rows)),
            float(sum(row["s"] for row in rows)))


def cost_table(benchmarks: Mapping[str, Sequence[str]], probe_cost: Mapping[str, float]) -> pd.DataFrame:
    """One row per path (COST_COLUMNS): `benchmarks` maps a path's name to its jobs' benchmark
    files (PAIRS among them); the probe's row comes from `probe_cost` (probe_cpu_s)."""
    rows = [(name, *benchmark_totals(paths)) for name, paths in benchmarks.items()]
    rows.append(("affinity probe (inside the affinity model)", 0, probe_cost["probe_cpu_s"],
                 float("nan")))
    table = pd.DataFrame(rows, columns=COST_COLUMNS[:-1])
    pairs = table.loc[table["path"] == PAIRS, "cpu_s"].sum()
    return table.assign(share_of_pairs=table["cpu_s"] / pairs if pairs > 0 else float("nan"))


def write_affinity_cost(benchmarks: Mapping[str, Sequence[str]], probe_cost_json: str,
                        out_csv: str) -> None:
    """Write `affinity_cost.csv`."""
    with open(probe_cost_json) as handle:
        probe_cost = json.load(handle)
    write_table(cost_table(benchmarks, probe_cost), out_csv)
