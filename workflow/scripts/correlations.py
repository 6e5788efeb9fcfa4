from analysis.logs import log_to_file
from analysis.stats.correlations import write_correlations

log_to_file(snakemake.log[0])
write_correlations(
    snakemake.input.gains,
    snakemake.input.pair_features,
    snakemake.output.correlations,
    permutations=snakemake.params.permutations,
    seed=snakemake.params.seed,
)
