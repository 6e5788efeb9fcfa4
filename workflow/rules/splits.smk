rule make_splits:
    """The test fold of every clip (the corpus's own split, or stratified k-fold); every model of the
    study uses these folds."""
    input:
        manifest=lambda wildcards: manifest_input(wildcards.dataset),
    output:
        splits="results/splits/{dataset}.parquet",
    params:
        manifest_digest=dataset_manifest_digest,
        folds=config["folds"],
        seed=config["split_seed"],
        stratify_by=split_column,
        task=split_task,
        group_by=split_groups,
        folds_from=split_predefined,
    log:
        "logs/make_splits/{dataset}.log",
    benchmark:
        "results/benchmarks/make_splits/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=small_mem_mb,
        runtime=small_runtime,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/make_splits.py"
