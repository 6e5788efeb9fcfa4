from analysis.logs import log_to_file
from analysis.stats.transfer_gains import collect_transfer_runs

log_to_file(snakemake.log[0])
collect_transfer_runs(list(snakemake.input), snakemake.output[0])
