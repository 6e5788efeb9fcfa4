"""Cost accounting of a study: the CPU seconds each path used, from the Snakemake benchmark files
(`results/benchmarks/<rule>/...tsv`, column `cpu_time`: the job's process, start-up and reading
inputs included).

Paths: the single-task models; the pair models trained; all pairs (the measured total when every
pair was trained, otherwise the mean of the trained pairs times the number of pairs, marked
`estimated`); the task groups' models; the affinity measurement (the all-task model and the `affinity`
table, AFFINITY_BENCHMARKS); the affinity probe alone, measured inside the all-task model's job
(`probe_cost.json`, part of the affinity row, not added to it)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

COST_COLUMNS = ["path", "models", "cpu_seconds", "wall_seconds", "estimated", "share_of_all_pairs"]
# the affinity path: the all-task model and its affinity table (workflow/rules/affinity.smk)
AFFINITY_BENCHMARKS = ("train_affinity_model.tsv", "affinity.tsv")
AFFINITY = "affinity (all-task model and its table)"
PROBE = "affinity probe (inside the all-task model)"


def benchmark_seconds(path: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one benchmark file; every repeat summed."""
    table = pd.read_csv(path, sep="\t")
    cpu = pd.to_numeric(table.get("cpu_time", table["s"]), errors="coerce").fillna(0.0)
    return float(cpu.sum()), float(pd.to_numeric(table["s"], errors="coerce").fillna(0.0).sum())


def model_seconds(benchmarks: Path, kind: str, names: list[str]) -> list[tuple[float, float]]:
    files = [benchmarks / "train_model" / kind / f"{name}.tsv" for name in names]
    return [benchmark_seconds(file) for file in files if file.exists()]


def _row(path: str, seconds: list[tuple[float, float]], estimated: bool = False) -> dict:
    return {"path": path, "models": len(seconds), "cpu_seconds": sum(s[0] for s in seconds),
            "wall_seconds": sum(s[1] for s in seconds), "estimated": estimated}


def cost_table(benchmarks: str | Path, singles: list[str], all_pairs: list[str], trained_pairs: list[str],
               groups: list[str] | None, probe_cost: str | Path | None = None) -> pd.DataFrame:
    """`groups`: the group models trained (a group served by a trained pair model costs nothing
    more); None when the study has no groups. `probe_cost`: the all-task model's
    `probe_cost.json` (its `probe_cpu_s`), when the study measured task affinity."""
    benchmarks = Path(benchmarks)
    pairs = model_seconds(benchmarks, "pair", trained_pairs)
    rows = [_row("single-task models", model_seconds(benchmarks, "single", singles)),
            _row("pairs trained", pairs)]
    if len(pairs) == len(all_pairs) or not pairs:
        rows.append(_row("all pairs", pairs) | {"models": len(all_pairs)})
    else:
        scale = len(all_pairs) / len(pairs)
        rows.append({**_row("all pairs", [(s[0] * scale, s[1] * scale) for s in pairs]),
                     "models": len(all_pairs), "estimated": True})
    if groups is not None:
        rows.append(_row("task groups", model_seconds(benchmarks, "group", groups)))
    affinity = [benchmark_seconds(benchmarks / name) for name in AFFINITY_BENCHMARKS
                if (benchmarks / name).is_file()]
    if affinity:
        rows.append(_row(AFFINITY, affinity))
    if probe_cost is not None:
        probe_cpu = json.loads(Path(probe_cost).read_text())["probe_cpu_s"]
        rows.append({"path": PROBE, "models": 0, "cpu_seconds": float(probe_cpu),
                     "wall_seconds": float("nan"), "estimated": False})
    table = pd.DataFrame(rows)
    all_cpu = float(table.loc[table["path"] == "all pairs", "cpu_seconds"].iloc[0])
    table["share_of_all_pairs"] = table["cpu_seconds"] / all_cpu if all_cpu > 0 else float("nan")
    return table[COST_COLUMNS]
