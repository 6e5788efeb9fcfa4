from analysis.logs import log_to_file
from analysis.stats.regression import write_regression

log_to_file(snakemake.log[0])
write_regression(
    snakemake.input.gains,
    snakemake.input.pair_features,
    snakemake.output.regression,
    selection=snakemake.params.selection,
    permutations=snakemake.params.permutations,
    seed=snakemake.params.seed,
    protocol=snakemake.params.protocol,
)
