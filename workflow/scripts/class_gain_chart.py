from analysis.logs import log_to_file
from analysis.report.study_figures import plot_class_gains

log_to_file(snakemake.log[0])
plot_class_gains(snakemake.input.class_gains, snakemake.output[0])
