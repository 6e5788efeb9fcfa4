rule make_splits:
    """The test fold of every clip; every model of the study uses these folds."""
    input:
        manifest="results/datasets/{dataset}/manifest.parquet",
    output:
        splits="results/splits/{dataset}.parquet",
    params:
        folds=config["folds"],
        seed=config["split_seed"],
        stratify_by=split_column,
        group_by=split_groups,
    log:
        "logs/make_splits/{dataset}.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/make_splits.py"
