from analysis.logs import log_to_file
from analysis.stats.transfer_gains import write_transfer_analysis

log_to_file(snakemake.log[0])
write_transfer_analysis(
    snakemake.input.gains,
    snakemake.input.mtl_gains,
    snakemake.input.pair_features,
    snakemake.input.fold_sizes,
    outputs=dict(snakemake.output.items()),
    alpha=snakemake.params.alpha,
    permutations=snakemake.params.permutations,
    seed=snakemake.params.seed,
)
