# Training jobs run single-threaded: the numbers must not depend on how many cores a job gets.


rule train_single:
    """The single-task model of one task, over every fold and seed."""
    input:
        unpack(single_inputs),
    output:
        metrics="results/models/single/{task}/metrics.parquet",
        curve="results/models/single/{task}/curve.parquet",
        history="results/models/single/{task}/history.parquet",
        efficiency="results/models/single/{task}/efficiency.json",
        per_class="results/models/single/{task}/per_class.parquet",
        confusion="results/models/single/{task}/confusion.parquet",
    params:
        tasks=single_params,
        manifest_digests=single_manifest_digests,
        datasets=single_datasets,
        model=model_params(),
        training=training_params(),
        checkpoints="results/checkpoints/single/{task}",
    log:
        "logs/train_single/{task}.log",
    benchmark:
        "results/benchmarks/train_single/{task}.tsv"
    threads: 1
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/train_model.py"


rule train_pair:
    """The dual-task model of one unordered pair (shared layers, one head per task)."""
    input:
        unpack(pair_inputs),
    output:
        metrics="results/models/pair/{task_a}__{task_b}/metrics.parquet",
        curve="results/models/pair/{task_a}__{task_b}/curve.parquet",
        history="results/models/pair/{task_a}__{task_b}/history.parquet",
        efficiency="results/models/pair/{task_a}__{task_b}/efficiency.json",
        per_class="results/models/pair/{task_a}__{task_b}/per_class.parquet",
        confusion="results/models/pair/{task_a}__{task_b}/confusion.parquet",
    params:
        tasks=pair_params,
        manifest_digests=pair_manifest_digests,
        datasets=pair_datasets,
        model=model_params(),
        training=training_params(),
        checkpoints="results/checkpoints/pair/{task_a}__{task_b}",
    log:
        "logs/train_pair/{task_a}__{task_b}.log",
    benchmark:
        "results/benchmarks/train_pair/{task_a}__{task_b}.tsv"
    threads: 1
    resources:
        mem_mb=train_mem_mb,
        runtime=train_runtime,
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
        kind="single|pair",
        name=f"{TASK_NAME}(?:__{TASK_NAME})?",
    log:
        "logs/tensorboard_logs/{kind}/{name}.log",
    benchmark:
        "results/benchmarks/tensorboard_logs/{kind}/{name}.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/tensorboard_logs.py"
