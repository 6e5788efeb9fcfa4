from analysis.logs import log_to_file
from analysis.meta.pair_features import write_pair_features

log_to_file(snakemake.log[0])
write_pair_features(
    snakemake.input.task_features,
    snakemake.input.gains,
    snakemake.output.pair_features,
    protocol=snakemake.params.protocol,
)
