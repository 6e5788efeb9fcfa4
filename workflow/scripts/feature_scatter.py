from analysis.logs import log_to_file
from analysis.report.study_figures import plot_feature_scatter

log_to_file(snakemake.log[0])
plot_feature_scatter(
    snakemake.input.correlations,
    snakemake.input.gains,
    snakemake.input.pair_features,
    snakemake.output[0],
    alpha=snakemake.params.alpha,
)
