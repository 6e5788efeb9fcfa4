rule extract_features:
    """A fixed-size feature vector per clip, in manifest order, memory-mappable."""
    input:
        manifest="results/datasets/{dataset}/manifest.parquet",
    output:
        features="results/features/{extractor}/{dataset}.npy",
        description="results/features/{extractor}/{dataset}.json",
    params:
        params=config["features"]["params"],
        sample_rate=config["sample_rate"],
    log:
        "logs/extract_features/{extractor}/{dataset}.log",
    benchmark:
        "results/benchmarks/extract_features/{extractor}/{dataset}.tsv"
    threads: 2
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/extract_features.py"
