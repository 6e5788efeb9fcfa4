rule gains:
    """MTL gain of every ordered (main, aux) pair, per fold and seed."""
    input:
        runs="results/study/runs.parquet",
    output:
        gains="results/study/gains.parquet",
    params:
        metric=config["gain_metric"],
        detection=detection_gain_settings(),
    log:
        "logs/gains.log",
    benchmark:
        "results/benchmarks/gains.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/gains.py"


rule pair_gains:
    """Per ordered pair: mean gain, corrected resampled t-test over folds, BH q-value, verdict."""
    input:
        gains="results/study/gains.parquet",
        fold_sizes="results/study/fold_sizes.parquet",
    output:
        pair_gains=report(
            "results/analysis/pair_gains.csv",
            caption="../report/pair_gains.rst",
            category="Gains",
        ),
    params:
        alpha=config["analysis"]["alpha"],
    log:
        "logs/pair_gains.log",
    benchmark:
        "results/benchmarks/pair_gains.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/pair_gains.py"


rule gain_categories:
    """Gains summarised by pair category: same or different dataset and domain, auxiliary task."""
    input:
        pair_gains="results/analysis/pair_gains.csv",
        factors="results/study/task_factors.parquet",
    output:
        categories=report(
            "results/analysis/gain_categories.csv",
            caption="../report/gain_category_table.rst",
            category="Gains",
        ),
    log:
        "logs/gain_categories.log",
    benchmark:
        "results/benchmarks/gain_categories.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/gain_categories.py"


rule class_gains:
    """Change of each class's F1 of the main task, per ordered pair."""
    input:
        per_class="results/study/per_class.parquet",
    output:
        class_gains=report(
            "results/analysis/class_gains.csv",
            caption="../report/class_gain_table.rst",
            category="Per-class gains",
        ),
    log:
        "logs/class_gains.log",
    benchmark:
        "results/benchmarks/class_gains.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/class_gains.py"


rule pair_features:
    """main_*, aux_* and main-aux_* / log_main/aux_* (or the published main/aux_*) features of
    every ordered pair, by analysis.protocol."""
    input:
        task_features="results/study/task_features.parquet",
        gains="results/study/gains.parquet",
    output:
        pair_features="results/study/pair_features.parquet",
    params:
        protocol=config["analysis"]["protocol"],
    log:
        "logs/pair_features.log",
    benchmark:
        "results/benchmarks/pair_features.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/pair_features.py"


rule correlations:
    """Each pair feature against the gain at its level (task means or permutation), BH q-values."""
    input:
        gains="results/study/gains.parquet",
        pair_features="results/study/pair_features.parquet",
    output:
        correlations=report(
            "results/analysis/correlations.csv",
            caption="../report/correlation_table.rst",
            category="Correlations",
        ),
    params:
        permutations=config["analysis"]["permutations"],
        seed=config["analysis"]["seed"],
    log:
        "logs/correlations.log",
    benchmark:
        "results/benchmarks/correlations.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/correlations.py"


rule prediction:
    """Which pairs gain, from pair features: leave-task-out CV and a permutation test (calibrated),
    or the published protocol of Bingel & Sogaard (analysis.protocol)."""
    input:
        gains="results/study/gains.parquet",
        pair_gains="results/analysis/pair_gains.csv",
        pair_features="results/study/pair_features.parquet",
    output:
        scores=report(
            "results/analysis/prediction.csv",
            caption="../report/prediction.rst",
            category="Prediction",
        ),
        coefficients=report(
            "results/analysis/coefficients.csv",
            caption="../report/coefficients.rst",
            category="Prediction",
        ),
    params:
        protocol=config["analysis"]["protocol"],
        permutations=config["analysis"]["permutations"],
        repetitions=config["analysis"]["repetitions"],
        cv_folds=config["analysis"]["cv_folds"],
        seed=config["analysis"]["seed"],
    log:
        "logs/prediction.log",
    benchmark:
        "results/benchmarks/prediction.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/prediction.py"


rule regression:
    """Linear regression of the mean gain on a few pair features (fixed, or chosen inside each
    training fold), its leave-task-out R² and permutation p-value."""
    input:
        gains="results/study/gains.parquet",
        pair_features="results/study/pair_features.parquet",
    output:
        regression=report(
            "results/analysis/regression.csv",
            caption="../report/regression.rst",
            category="Prediction",
        ),
    params:
        selection=config["analysis"]["regression_features"],
        protocol=config["analysis"]["protocol"],
        permutations=config["analysis"]["permutations"],
        seed=config["analysis"]["seed"],
    log:
        "logs/regression.log",
    benchmark:
        "results/benchmarks/regression.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/regression.py"


rule layer_variances:
    """Per ordered pair and shared layer, the main task's intermediate output variance in the pair
    model against its single-task model (analysis.stats.layer_variances; descriptive)."""
    input:
        model_variance_files,
    output:
        table=report(
            "results/analysis/layer_variances.csv",
            caption="../report/layer_variances.rst",
            category="Layer variances",
        ),
    params:
        single=single_dirs(),
        pairs=budgeted_pair_dirs,
    log:
        "logs/layer_variances.log",
    benchmark:
        "results/benchmarks/layer_variances.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/layer_variances.py"
