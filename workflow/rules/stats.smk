rule gains:
    """MTL gain of every ordered (main, aux) pair, per fold and seed."""
    input:
        runs="results/study/runs.parquet",
    output:
        gains="results/study/gains.parquet",
    params:
        metric=config["gain_metric"],
    log:
        "logs/gains.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/gains.py"


rule pair_features:
    """main_*, aux_* and main/aux_* features of every ordered pair."""
    input:
        task_features="results/study/task_features.parquet",
        gains="results/study/gains.parquet",
    output:
        pair_features="results/study/pair_features.parquet",
    log:
        "logs/pair_features.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/pair_features.py"


rule correlations:
    """Pearson and Spearman correlation of each pair feature with the gain, with FDR q-values."""
    input:
        gains="results/study/gains.parquet",
        pair_features="results/study/pair_features.parquet",
    output:
        correlations=report(
            "results/analysis/correlations.csv",
            caption="../report/correlation_table.rst",
            category="Correlations",
        ),
    log:
        "logs/correlations.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/correlations.py"


rule prediction:
    """Logistic regression on the sign of the gain, repeated k-fold CV against the majority class."""
    input:
        gains="results/study/gains.parquet",
        pair_features="results/study/pair_features.parquet",
    output:
        scores=report(
            "results/analysis/prediction.csv",
            caption="../report/prediction.rst",
            category="Prediction",
        ),
        coefficients="results/analysis/coefficients.csv",
    params:
        **config["analysis"],
    log:
        "logs/prediction.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/prediction.py"
