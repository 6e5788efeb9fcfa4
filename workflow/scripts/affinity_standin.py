"""STAND-IN affinity table (deleted when the measured affinity of branch `affinity` lands)."""

import pandas as pd

from analysis.logs import log_to_file

log_to_file(snakemake.log[0])
tasks = snakemake.params.tasks


def heuristic(main: dict, aux: dict) -> float:
    if main["label"] == aux["label"] and main["dataset"] != aux["dataset"]:
        return 1.0
    return 0.5 if main["dataset"] == aux["dataset"] else 0.0


rows = [
    {"main": m, "aux": a, "lookahead": heuristic(tasks[m], tasks[a]), "cosine": heuristic(tasks[m], tasks[a]), "n": 0}
    for m in sorted(tasks) for a in sorted(tasks) if m != a
]
pd.DataFrame(rows, columns=["main", "aux", "lookahead", "cosine", "n"]).to_csv(snakemake.output.affinity, index=False)
