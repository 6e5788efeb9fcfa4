# STAND-IN, to be deleted when branch `affinity` (issue 11, items 1-3) lands: its
# `checkpoint affinity` writes the measured results/analysis/affinity.csv. This one writes the same
# columns from a heuristic on the config alone (no training): a task's namesake in another dataset
# (same label name) scores highest, a task of the same dataset next, any other task lowest.


checkpoint affinity:
    """STAND-IN affinity (heuristic, not measured): main, aux, lookahead, cosine, n."""
    output:
        affinity="results/analysis/affinity.csv",
    params:
        tasks=feature_tasks(),
    log:
        "logs/affinity.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/affinity_standin.py"
