# Task groups (config `groups`): choose a partition of the tasks into N networks from pair gains or
# affinities, train one model per group of two or more tasks, and test each task's gain in it.


checkpoint task_groups:
    """The partition of the study's tasks into `groups.networks` groups with the highest score
    the pairs predict (analysis.meta.grouping)."""
    input:
        scores=group_source,
    output:
        groups=report(
            "results/analysis/task_groups.csv",
            caption="../report/task_groups.rst",
            category="Budget",
        ),
    params:
        networks=GROUPS["networks"] if GROUPS else 0,
        column=GROUP_SOURCES[GROUPS["from"]][1] if GROUPS else "",
        tasks=sorted(TASKS),
    log:
        "logs/task_groups.log",
    benchmark:
        "results/benchmarks/task_groups.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/task_groups.py"


rule group_gains:
    """Each task's gain in its group's model against its single-task model (calibrated test), next
    to what its pairs predicted."""
    input:
        runs="results/study/runs.parquet",
        fold_sizes="results/study/fold_sizes.parquet",
        groups="results/analysis/task_groups.csv",
        models=group_model_metrics,
    output:
        group_gains=report(
            "results/analysis/group_gains.csv",
            caption="../report/group_gains.rst",
            category="Budget",
        ),
    params:
        group_dirs=group_model_dirs,
        metric=config["gain_metric"],
        alpha=config["analysis"]["alpha"],
    log:
        "logs/group_gains.log",
    benchmark:
        "results/benchmarks/group_gains.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/group_gains.py"


rule group_gain_chart:
    """Measured against predicted gain of every task in its group."""
    input:
        group_gains="results/analysis/group_gains.csv",
    output:
        figure=report(
            "results/figures/group_gains.png",
            caption="../report/group_gains.rst",
            category="Budget",
        ),
    log:
        "logs/group_gain_chart.log",
    benchmark:
        "results/benchmarks/group_gain_chart.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/group_gain_chart.py"


rule cost:
    """CPU seconds of each path of the study (single-task models, pairs trained, all pairs, task
    groups, affinity and its probe), from the Snakemake benchmark files."""
    input:
        unpack(cost_inputs),
    output:
        cost=report(
            "results/analysis/cost.csv",
            caption="../report/cost.rst",
            category="Cost",
        ),
        figure=report(
            "results/figures/cost.png",
            caption="../report/cost.rst",
            category="Cost",
        ),
    params:
        models=cost_models,
    log:
        "logs/cost.log",
    benchmark:
        "results/benchmarks/cost.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/cost.py"
