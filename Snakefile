from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/corpora.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/splits.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/metafeatures.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        "results/analysis/correlations.csv",
        "results/analysis/prediction.csv",
        "results/figures/gain_heatmap.png",
        "results/figures/correlations.png",
