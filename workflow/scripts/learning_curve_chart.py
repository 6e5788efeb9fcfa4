from analysis.logs import log_to_file
from analysis.report.study_figures import plot_learning_curves

log_to_file(snakemake.log[0])
plot_learning_curves(snakemake.input.curves, snakemake.output[0])
