from analysis.logs import log_to_file
from analysis.stats.affinity import write_affinity

log_to_file(snakemake.log[0])
write_affinity(snakemake.input.probe, snakemake.output.affinity)
