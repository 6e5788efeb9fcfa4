rule collect_runs:
    """Every final score and every single-task learning curve of the study, as two tidy tables."""
    input:
        all_model_metrics(),
    output:
        runs="results/study/runs.parquet",
        curves="results/study/curves.parquet",
    params:
        single=single_dirs(),
        pairs=pair_dirs(),
    log:
        "logs/collect_runs.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/collect_runs.py"


rule task_features:
    """Dataset, information-theoretic and learning-curve features, one row per task."""
    input:
        manifests=all_manifests(),
        curves="results/study/curves.parquet",
    output:
        features="results/study/task_features.parquet",
    params:
        tasks=TASKS,
        datasets=sorted(DATASETS),
    log:
        "logs/task_features.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/task_features.py"
