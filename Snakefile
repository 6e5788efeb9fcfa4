from snakemake.utils import min_version

min_version("9.0")


# The default study. A study's own --configfile replaces it entirely (workflow/profiles/default sets
# replace-workflow-config); --config KEY=VALUE alone adjusts it.
configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/corpora.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/splits.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/budget_common.smk"
include: "workflow/rules/budget.smk"
include: "workflow/rules/budget_groups.smk"
include: "workflow/rules/metafeatures.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/affinity_common.smk"
include: "workflow/rules/affinity.smk"
include: "workflow/rules/detection.smk"
include: "workflow/rules/transfer_common.smk"
include: "workflow/rules/transfer.smk"


rule all:
    default_target: True
    input:
        "results/analysis/pair_gains.csv",
        "results/analysis/gain_categories.csv",
        "results/analysis/class_gains.csv",
        "results/analysis/correlations.csv",
        "results/analysis/prediction.csv",
        "results/analysis/regression.csv",
        "results/analysis/task_features.csv",
        "results/figures/gain_heatmap.png",
        "results/figures/gain_categories.png",
        "results/figures/class_gains.png",
        "results/figures/correlations.png",
        "results/figures/feature_scatter.png",
        "results/figures/learning_curves.png",
        "results/figures/prediction.png",
        variance_targets(),
        tensorboard_targets(),
        affinity_targets(),
        detection_targets(),
        transfer_targets(),
        cost_targets(),
        budget_targets(),
        budget_tensorboard_targets,
