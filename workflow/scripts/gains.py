from analysis.logs import log_to_file
from analysis.stats.gains import write_gains

log_to_file(snakemake.log[0])
write_gains(snakemake.input.runs, snakemake.params.metric, snakemake.output.gains)
