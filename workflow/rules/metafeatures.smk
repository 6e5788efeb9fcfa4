rule audio_stats:
    """Per-clip file size, level and SNR estimate of one dataset: only a new dataset reads audio."""
    input:
        manifest=lambda wildcards: manifest_input(wildcards.dataset),
    output:
        stats="results/datasets/{dataset}/audio_stats.parquet",
    params:
        manifest_digest=dataset_manifest_digest,
    log:
        "logs/audio_stats/{dataset}.log",
    benchmark:
        "results/benchmarks/audio_stats/{dataset}.tsv"
    threads: 1
    resources:
        mem_mb=small_mem_mb,
        runtime=audio_runtime,
        attempt=job_attempt,
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/audio_stats.py"


if EXTERNAL:

    rule import_results:
        """A study trained elsewhere: its runs, curves and task features as the study tables."""
        input:
            external_inputs,
        output:
            runs="results/study/runs.parquet",
            curves="results/study/curves.parquet",
            per_class="results/study/per_class.parquet",
            features="results/study/task_features.parquet",
            factors="results/study/task_factors.parquet",
            fold_sizes="results/study/fold_sizes.parquet",
        params:
            folder=EXTERNAL,
            metric=config["gain_metric"],
        log:
            "logs/import_results.log",
        benchmark:
            "results/benchmarks/import_results.tsv"
        threads: 1
        conda:
            "../envs/analysis.yaml"
        script:
            "../scripts/import_results.py"

else:

    rule collect_runs:
        """Every final score, single-task learning curve and per-class score, as tidy tables."""
        input:
            budgeted_model_metrics,
            [f"{d}/confusion.parquet" for d in single_dirs().values()],
            [f"results/models/{kind}/{name}/efficiency.json" for kind, name in sorted(MODELS)]
            if PAIR_SELECT == "all" else [],
        output:
            runs="results/study/runs.parquet",
            curves="results/study/curves.parquet",
            per_class="results/study/per_class.parquet",
            fold_sizes="results/study/fold_sizes.parquet",
        params:
            single=single_dirs(),
            pairs=budgeted_pair_dirs if PAIR_SELECT != "all" else pair_dirs(),
        log:
            "logs/collect_runs.log",
        benchmark:
            "results/benchmarks/collect_runs.tsv"
        threads: 1
        conda:
            "../envs/analysis.yaml"
        script:
            "../scripts/collect_runs.py"

    rule task_features:
        """Dataset, information-theoretic, audio and learning-curve features, one row per task."""
        input:
            manifests=all_manifests(),
            audio_stats=all_audio_stats(),
            curves="results/study/curves.parquet",
        output:
            features="results/study/task_features.parquet",
            factors="results/study/task_factors.parquet",
        params:
            tasks=feature_tasks(),
            datasets=sorted(DATASETS),
            manifest_digests=all_manifest_digests,
            factors=dataset_factors(),
        log:
            "logs/task_features.log",
        benchmark:
            "results/benchmarks/task_features.tsv"
        threads: 1
        conda:
            "../envs/analysis.yaml"
        script:
            "../scripts/task_features.py"
