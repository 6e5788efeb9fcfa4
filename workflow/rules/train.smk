# Training jobs run single-threaded: the numbers must not depend on how many cores a job gets.


rule train_model:
    """One model of the study over every fold and seed: a task alone (`single/T`), a pair of tasks
    with shared layers and one head each (`pair/A__B`) or a group of tasks (`group/NAME`). Which
    tasks a model holds is `MODELS[(kind, name)]` (common.smk)."""
    input:
        unpack(model_inputs),
    output:
        metrics="results/models/{kind}/{name}/metrics.parquet",
        curve="results/models/{kind}/{name}/curve.parquet",
        history="results/models/{kind}/{name}/history.parquet",
        efficiency="results/models/{kind}/{name}/efficiency.json",
        per_class="results/models/{kind}/{name}/per_class.parquet",
        confusion="results/models/{kind}/{name}/confusion.parquet",
        variances="results/models/{kind}/{name}/variances.parquet",
    wildcard_constraints:
        kind=MODEL_KINDS,
        name=MODEL_NAME,
    params:
        tasks=model_tasks,
        manifest_digests=model_manifest_digests,
        datasets=model_datasets,
        model=model_params(),
        training=training_params(),
        checkpoints="results/checkpoints/{kind}/{name}",
    log:
        "logs/train_model/{kind}/{name}.log",
    benchmark:
        "results/benchmarks/train_model/{kind}/{name}.tsv"
    threads: 1
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        gpu=train_gpus,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/train_model.py"


rule tensorboard_logs:
    """TensorBoard event logs of one model, from its recorded curve and history (`tensorboard: true`)."""
    input:
        curve="results/models/{kind}/{name}/curve.parquet",
        history="results/models/{kind}/{name}/history.parquet",
    output:
        directory("results/tensorboard/{kind}/{name}"),
    wildcard_constraints:
        kind=MODEL_KINDS,
        name=MODEL_NAME,
    log:
        "logs/tensorboard_logs/{kind}/{name}.log",
    benchmark:
        "results/benchmarks/tensorboard_logs/{kind}/{name}.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/tensorboard_logs.py"
