from analysis.features.extract import feature_settings


# Resolved extractor params and preparation (defaults filled, values checked before any job): a
# change reruns exactly the affected jobs, and writing a default out changes nothing.
FEATURE_SETTINGS = feature_settings(
    EXTRACTOR, config["features"]["params"], config["features"]["preparation"], config["sample_rate"]
)


rule extract_features:
    """Feature rows per clip (or per window of a clip), in manifest order, memory-mappable."""
    wildcard_constraints:
        extractor=EXTRACTOR,
    input:
        manifest=lambda wildcards: manifest_input(wildcards.dataset),
    output:
        features="results/features/{extractor}/{dataset}.npy",
        clips="results/features/{extractor}/{dataset}.clips.npy",
        description="results/features/{extractor}/{dataset}.json",
    params:
        manifest_digest=dataset_manifest_digest,
        settings=FEATURE_SETTINGS,
        sample_rate=config["sample_rate"],
    log:
        "logs/extract_features/{extractor}/{dataset}.log",
    benchmark:
        "results/benchmarks/extract_features/{extractor}/{dataset}.tsv"
    threads: 2
    resources:
        mem_mb=extract_mem_mb,
        runtime=audio_runtime,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/extract_features.py"
