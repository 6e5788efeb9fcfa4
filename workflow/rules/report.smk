rule gain_heatmap:
    input:
        gains="results/study/gains.parquet",
    output:
        report(
            "results/figures/gain_heatmap.png",
            caption="../report/gain_heatmap.rst",
            category="Gains",
        ),
    params:
        metric=config["gain_metric"],
    log:
        "logs/gain_heatmap.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/gain_heatmap.py"


rule correlation_chart:
    input:
        correlations="results/analysis/correlations.csv",
    output:
        report(
            "results/figures/correlations.png",
            caption="../report/correlations.rst",
            category="Correlations",
        ),
    log:
        "logs/correlation_chart.log",
    threads: 1
    conda:
        "../envs/analysis.yaml"
    script:
        "../scripts/correlation_chart.py"
