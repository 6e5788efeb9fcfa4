# Task affinity (issue 11): one all-task model per fold and seed, trained with the affinity probe
# (analysis.mtl.affinity), and its measurements summarised per ordered pair and set against the
# measured pair gains.

rule train_affinity_model:
    """Every task of the study (controls too) in one hard-sharing network, with the budget each
    task has alone; the probe measures every ordered pair's lookahead and gradient cosine every
    `affinity.every` steps without changing the training."""
    input:
        unpack(affinity_model_inputs),
    output:
        metrics="results/affinity/model/metrics.parquet",
        curve="results/affinity/model/curve.parquet",
        history="results/affinity/model/history.parquet",
        efficiency="results/affinity/model/efficiency.json",
        per_class="results/affinity/model/per_class.parquet",
        confusion="results/affinity/model/confusion.parquet",
        variances="results/affinity/model/variances.parquet",
        probe="results/affinity/model/probe.parquet",
        cost="results/affinity/model/probe_cost.json",
    params:
        tasks={task: task_spec(task) for task in AFFINITY_TASKS},
        manifest_digests=lambda wildcards: manifest_digests(_datasets_of(AFFINITY_TASKS)),
        datasets=_datasets_of(AFFINITY_TASKS) if not EXTERNAL else [],
        model=model_params(),
        training=training_params(),
        # the probe's settings; top_k changes no number of the model, so it is left out
        affinity={key: value for key, value in config["affinity"].items() if key != "top_k"},
    log:
        "logs/train_affinity_model.log",
    benchmark:
        "results/benchmarks/train_affinity_model.tsv"
    threads: 1
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        gpu=train_gpus,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/train_affinity_model.py"


checkpoint affinity:
    """Per ordered pair: lookahead and gradient cosine, means and corrected intervals over folds."""
    input:
        probe="results/affinity/model/probe.parquet",
    output:
        affinity=report(
            "results/analysis/affinity.csv",
            caption="../report/affinity.rst",
            category="Task affinity",
        ),
    log:
        "logs/affinity.log",
    benchmark:
        "results/benchmarks/affinity.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/affinity.py"


rule affinity_vs_gain:
    """Affinity, the pair-feature predictor and the size ratio against the measured pair gains:
    Spearman with a main-task bootstrap interval, top-k partner precision, task-relabelling tests."""
    input:
        affinity="results/analysis/affinity.csv",
        pair_gains="results/analysis/pair_gains.csv",
        pair_features="results/study/pair_features.parquet",
    output:
        summary=report(
            "results/analysis/affinity_vs_gain.csv",
            caption="../report/affinity_vs_gain.rst",
            category="Task affinity",
        ),
        pairs="results/analysis/affinity_pairs.csv",
    params:
        top_k=config["affinity"]["top_k"],
        permutations=config["analysis"]["permutations"],
        seed=config["analysis"]["seed"],
    log:
        "logs/affinity_vs_gain.log",
    benchmark:
        "results/benchmarks/affinity_vs_gain.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/affinity_vs_gain.py"


rule affinity_chart:
    """Affinity against measured gain, one point per ordered pair."""
    input:
        pairs="results/analysis/affinity_pairs.csv",
        summary="results/analysis/affinity_vs_gain.csv",
    output:
        report(
            "results/figures/affinity_vs_gain.png",
            caption="../report/affinity_chart.rst",
            category="Task affinity",
        ),
    log:
        "logs/affinity_chart.log",
    benchmark:
        "results/benchmarks/affinity_chart.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/affinity_chart.py"
