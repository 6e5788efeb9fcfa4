rule demo_corpus:
    """Render an embedded demo corpus offline, deterministically from its seed."""
    output:
        manifest="resources/demo/{corpus}/manifest.csv",
        audio=directory("resources/demo/{corpus}/audio"),
    params:
        spec=demo_spec,
        sample_rate=config["sample_rate"],
    log:
        "logs/demo_corpus/{corpus}.log",
    benchmark:
        "results/benchmarks/demo_corpus/{corpus}.tsv"
    threads: 1
    resources:
        mem_mb=small_mem_mb,
        runtime=small_runtime,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/demo_corpus.py"


# A checkpoint: once it has run, Snakemake looks again at the jobs that read the manifest, and a
# manifest rewritten with the same content (a touched or re-copied file) reruns none of them.
checkpoint index_dataset:
    """One row per clip: path, duration, sample rate, channels and the label columns; the files
    left out as unreadable or empty (`bad_files: skip`) are listed in skipped.csv. Reruns when the
    dataset's audio files or tables change (`files`: their paths, sizes and modification times)."""
    input:
        index_inputs,
    output:
        manifest="results/datasets/{dataset}/manifest.parquet",
        skipped="results/datasets/{dataset}/skipped.csv",
    params:
        reader=dataset_reader,
        path=dataset_folder,
        tasks=dataset_tasks,
        options=dataset_reader_options,
        folds=config["folds"],
        files=dataset_files,
    log:
        "logs/index_dataset/{dataset}.log",
    benchmark:
        "results/benchmarks/index_dataset/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=small_mem_mb,
        runtime=small_runtime,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/index_dataset.py"
