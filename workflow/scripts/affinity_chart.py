from analysis.logs import log_to_file
from analysis.report.affinity_figures import plot_affinity_vs_gain

log_to_file(snakemake.log[0])
plot_affinity_vs_gain(snakemake.input.pairs, snakemake.input.summary, snakemake.output[0])
