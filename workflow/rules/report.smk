rule gain_heatmap:
    input:
        pair_gains="results/analysis/pair_gains.csv",
    output:
        report(
            "results/figures/gain_heatmap.png",
            caption="../report/gain_heatmap.rst",
            category="Gains",
        ),
    params:
        metric=config["gain_metric"],
        alpha=config["analysis"]["alpha"],
    log:
        "logs/gain_heatmap.log",
    benchmark:
        "results/benchmarks/gain_heatmap.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/gain_heatmap.py"


rule gain_category_chart:
    input:
        pair_gains="results/analysis/pair_gains.csv",
        factors="results/study/task_factors.parquet",
    output:
        report(
            "results/figures/gain_categories.png",
            caption="../report/gain_categories.rst",
            category="Gains",
        ),
    log:
        "logs/gain_category_chart.log",
    benchmark:
        "results/benchmarks/gain_category_chart.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/gain_category_chart.py"


rule class_gain_chart:
    input:
        class_gains="results/analysis/class_gains.csv",
    output:
        report(
            "results/figures/class_gains.png",
            caption="../report/class_gains.rst",
            category="Per-class gains",
        ),
    log:
        "logs/class_gain_chart.log",
    benchmark:
        "results/benchmarks/class_gain_chart.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/class_gain_chart.py"


rule correlation_chart:
    input:
        correlations="results/analysis/correlations.csv",
    output:
        report(
            "results/figures/correlations.png",
            caption="../report/correlations.rst",
            category="Correlations",
        ),
    params:
        alpha=config["analysis"]["alpha"],
    log:
        "logs/correlation_chart.log",
    benchmark:
        "results/benchmarks/correlation_chart.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/correlation_chart.py"


rule feature_scatter:
    input:
        correlations="results/analysis/correlations.csv",
        gains="results/study/gains.parquet",
        pair_features="results/study/pair_features.parquet",
    output:
        report(
            "results/figures/feature_scatter.png",
            caption="../report/feature_scatter.rst",
            category="Correlations",
        ),
    params:
        alpha=config["analysis"]["alpha"],
    log:
        "logs/feature_scatter.log",
    benchmark:
        "results/benchmarks/feature_scatter.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/feature_scatter.py"


rule learning_curve_chart:
    input:
        curves="results/study/curves.parquet",
    output:
        report(
            "results/figures/learning_curves.png",
            caption="../report/learning_curves.rst",
            category="Task features",
        ),
    log:
        "logs/learning_curve_chart.log",
    benchmark:
        "results/benchmarks/learning_curve_chart.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/learning_curve_chart.py"


rule task_feature_table:
    input:
        features="results/study/task_features.parquet",
    output:
        report(
            "results/analysis/task_features.csv",
            caption="../report/task_features.rst",
            category="Task features",
        ),
    log:
        "logs/task_feature_table.log",
    benchmark:
        "results/benchmarks/task_feature_table.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/task_feature_table.py"


rule prediction_chart:
    input:
        scores="results/analysis/prediction.csv",
    output:
        report(
            "results/figures/prediction.png",
            caption="../report/prediction_chart.rst",
            category="Prediction",
        ),
    log:
        "logs/prediction_chart.log",
    benchmark:
        "results/benchmarks/prediction_chart.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/prediction_chart.py"


rule layer_variance_chart:
    input:
        layer_variances="results/analysis/layer_variances.csv",
    output:
        report(
            "results/figures/layer_variances.png",
            caption="../report/layer_variance_chart.rst",
            category="Layer variances",
        ),
    log:
        "logs/layer_variance_chart.log",
    benchmark:
        "results/benchmarks/layer_variance_chart.tsv"
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/layer_variance_chart.py"
