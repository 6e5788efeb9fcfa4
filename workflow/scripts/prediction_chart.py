from analysis.logs import log_to_file
from analysis.report.study_figures import plot_prediction

log_to_file(snakemake.log[0])
plot_prediction(snakemake.input.scores, snakemake.output[0])
