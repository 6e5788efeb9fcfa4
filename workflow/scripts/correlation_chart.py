from analysis.logs import log_to_file
from analysis.report.figures import plot_correlations

log_to_file(snakemake.log[0])
plot_correlations(snakemake.input.correlations, snakemake.output[0], alpha=snakemake.params.alpha)
