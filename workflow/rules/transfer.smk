# Transfer interactions with SWR (`transfer.enabled`): the rules; the tables and input functions
# they use are in transfer_common.smk.


rule pretrain_source:
    """A task pre-trained on every fold and seed as its single-task model trains; the weights."""
    input:
        unpack(pretrain_inputs),
    output:
        "results/transfer/pretrained/{task}.pt",
    params:
        task=lambda wildcards: {wildcards.task: TASKS[wildcards.task]},
        manifest_digests=lambda wildcards: manifest_digests([TASKS[wildcards.task]["dataset"]]),
        model=model_params(),
        training=training_params(),
    log:
        "logs/pretrain_source/{task}.log",
    benchmark:
        "results/benchmarks/pretrain_source/{task}.tsv"
    threads: 1
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        gpu=train_gpus,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/pretrain_source.py"


rule transfer_model:
    """The pre-trained source transferred to the target: SWR at every cost and the references."""
    input:
        unpack(transfer_inputs),
    output:
        "results/transfer/models/{source}/{target}/metrics.parquet",
    wildcard_constraints:
        source=TASK_NAME,
        target=TASK_NAME,
    params:
        target=lambda wildcards: {wildcards.target: TASKS[wildcards.target]},
        manifest_digests=lambda wildcards: manifest_digests([TASKS[wildcards.target]["dataset"]]),
        model=model_params(),
        training=training_params(),
        transfer={k: v for k, v in config["transfer"].items() if k != "enabled"},
    log:
        "logs/transfer_model/{source}/{target}.log",
    benchmark:
        "results/benchmarks/transfer_model/{source}/{target}.tsv"
    threads: 1
    resources:
        mem_mb=train_mem_mb,
        runtime=transfer_runtime,
        gpu=train_gpus,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/transfer_model.py"


rule collect_transfer:
    """Every transfer model's scores and share of changed parameters, as one tidy table."""
    input:
        transfer_metrics(),
    output:
        "results/study/transfer_runs.parquet",
    log:
        "logs/collect_transfer.log",
    benchmark:
        "results/benchmarks/collect_transfer.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/collect_transfer.py"


rule transfer_gains:
    """Transfer gain of every setting and ordered (target, source) pair, per fold and seed."""
    input:
        transfer_runs="results/study/transfer_runs.parquet",
        runs="results/study/runs.parquet",
    output:
        "results/study/transfer_gains.parquet",
    params:
        metric=config["gain_metric"],
    log:
        "logs/transfer_gains.log",
    benchmark:
        "results/benchmarks/transfer_gains.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/transfer_gains.py"


rule transfer_analysis:
    """Transfer gains through the MTL gains' corrected tests and correlations, and transfer
    against joint training on the same folds and seeds."""
    input:
        gains="results/study/transfer_gains.parquet",
        mtl_gains="results/study/gains.parquet",
        pair_features="results/study/pair_features.parquet",
        fold_sizes="results/study/fold_sizes.parquet",
    output:
        tests=report(
            "results/analysis/transfer_gains.csv",
            caption="../report/transfer_gains.rst",
            category="Transfer",
        ),
        correlations="results/analysis/transfer_correlations.csv",
        versus=report(
            "results/analysis/transfer_vs_mtl.csv",
            caption="../report/transfer_vs_mtl_table.rst",
            category="Transfer",
        ),
    params:
        alpha=config["analysis"]["alpha"],
        permutations=config["analysis"]["permutations"],
        seed=config["analysis"]["seed"],
    log:
        "logs/transfer_analysis.log",
    benchmark:
        "results/benchmarks/transfer_analysis.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/transfer_analysis.py"


rule transfer_charts:
    """Transfer gain against MTL gain per ordered pair, and the share of parameters changed
    against the cost c."""
    input:
        versus="results/analysis/transfer_vs_mtl.csv",
        gains="results/study/transfer_gains.parquet",
    output:
        versus=report(
            "results/figures/transfer_vs_mtl.png",
            caption="../report/transfer_vs_mtl.rst",
            category="Transfer",
        ),
        cost=report(
            "results/figures/transfer_cost.png",
            caption="../report/transfer_cost.rst",
            category="Transfer",
        ),
    log:
        "logs/transfer_charts.log",
    benchmark:
        "results/benchmarks/transfer_charts.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/transfer_charts.py"


localrules:
    collect_transfer,
    transfer_gains,
    transfer_analysis,
    transfer_charts,
