from analysis.logs import log_to_file
from analysis.report.figures import plot_gain_heatmap

log_to_file(snakemake.log[0])
plot_gain_heatmap(
    snakemake.input.pair_gains,
    snakemake.output[0],
    metric=snakemake.params.metric,
    alpha=snakemake.params.alpha,
)
