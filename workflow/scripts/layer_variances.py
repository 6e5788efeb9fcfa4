from analysis.logs import log_to_file
from analysis.stats.layer_variances import write_layer_variances

log_to_file(snakemake.log[0])
write_layer_variances(snakemake.params.single, snakemake.params.pairs, snakemake.output.table)
