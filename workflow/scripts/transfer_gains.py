from analysis.logs import log_to_file
from analysis.stats.transfer_gains import write_transfer_gains

log_to_file(snakemake.log[0])
write_transfer_gains(
    snakemake.input.transfer_runs, snakemake.input.runs, snakemake.params.metric, snakemake.output[0]
)
