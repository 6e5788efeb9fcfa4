from analysis.logs import log_to_file
from analysis.report.study_figures import plot_gain_categories

log_to_file(snakemake.log[0])
plot_gain_categories(snakemake.input.pair_gains, snakemake.input.factors, snakemake.output[0])
