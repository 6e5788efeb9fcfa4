# Budgeted studies (config `pairs`): the meta-model of `select: predicted` (functions: budget_common.smk).


if not EXTERNAL:

    rule measured_study:
        """Runs and single-task curves of the single-task models and the measured pairs only: what
        the meta-model of `select: predicted` is fit on."""
        input:
            [f"{d}/{name}" for d in [*single_dirs().values(), *measured_pair_dirs().values()]
             for name in ("metrics.parquet", "curve.parquet", "per_class.parquet", "efficiency.json")],
        output:
            runs="results/budget/measured/runs.parquet",
            curves="results/budget/measured/curves.parquet",
        params:
            single=single_dirs(),
            pairs=measured_pair_dirs(),
        log:
            "logs/measured_study.log",
        benchmark:
            "results/benchmarks/measured_study.tsv"
        threads: 1
        conda:
            "../envs/analysis.yaml"
        script:
            "../scripts/collect_runs.py"

    rule measured_task_features:
        """Task features from the measured study's single-task curves."""
        input:
            manifests=all_manifests(),
            audio_stats=all_audio_stats(),
            curves="results/budget/measured/curves.parquet",
        output:
            features="results/budget/measured/task_features.parquet",
        params:
            tasks=feature_tasks(),
            datasets=sorted(DATASETS),
            manifest_digests=all_manifest_digests,
        log:
            "logs/measured_task_features.log",
        benchmark:
            "results/benchmarks/measured_task_features.tsv"
        threads: 1
        conda:
            "../envs/analysis.yaml"
        script:
            "../scripts/task_features.py"

    checkpoint predicted_gains:
        """Gain of every ordered pair of the study's tasks, predicted by a ridge regression on pair
        features fit on the measured pairs (`pairs.select: predicted`)."""
        input:
            runs="results/budget/measured/runs.parquet",
            task_features="results/budget/measured/task_features.parquet",
        output:
            predicted=report(
                "results/analysis/predicted_gains.csv",
                caption="../report/predicted_gains.rst",
                category="Budget",
            ),
        params:
            metric=config["gain_metric"],
            protocol=config["analysis"]["protocol"],
            tasks=sorted(TASKS),
        log:
            "logs/predicted_gains.log",
        benchmark:
            "results/benchmarks/predicted_gains.tsv"
        threads: 1
        conda:
            "../envs/analysis.yaml"
        script:
            "../scripts/predicted_gains.py"

    rule pair_choices:
        """Each main task's chosen partners (`pairs.select`), their score and the measured gain
        beside it."""
        input:
            scores=lambda wildcards: _pair_scores_path(),
            pair_gains="results/analysis/pair_gains.csv",
        output:
            choices=report(
                "results/analysis/pair_choices.csv",
                caption="../report/pair_choices.rst",
                category="Budget",
            ),
        params:
            select=PAIR_SELECT,
            per_task=PER_TASK,
            tasks=sorted(TASKS),
        log:
            "logs/pair_choices.log",
        benchmark:
            "results/benchmarks/pair_choices.tsv"
        threads: 1
        conda:
            "../envs/analysis.yaml"
        script:
            "../scripts/pair_choices.py"
