# Detection tasks (issue 14 part 2): a report table of their scores. Only studies with a
# `type: detection` task have the job (`detection_targets()` in rule all).


rule detection_scores:
    """Mean over folds and seeds of every detection metric of every detection task, alone and
    with each partner."""
    input:
        runs="results/study/runs.parquet",
    output:
        scores=report(
            "results/analysis/detection_scores.csv",
            caption="../report/detection_scores.rst",
            category="Detection",
        ),
    params:
        tasks=detection_tasks(),
    log:
        "logs/detection_scores.log",
    benchmark:
        "results/benchmarks/detection_scores.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/detection_scores.py"
