from analysis.logs import log_to_file
from analysis.report.study_figures import plot_layer_variances

log_to_file(snakemake.log[0])
plot_layer_variances(snakemake.input.layer_variances, snakemake.output[0])
