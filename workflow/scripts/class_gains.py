from analysis.logs import log_to_file
from analysis.stats.gain_tests import write_class_gains

log_to_file(snakemake.log[0])
write_class_gains(snakemake.input.per_class, snakemake.output.class_gains)
