from analysis.logs import log_to_file
from analysis.stats.affinity_gain import write_affinity_vs_gain

log_to_file(snakemake.log[0])
write_affinity_vs_gain(
    snakemake.input.affinity,
    snakemake.input.pair_gains,
    snakemake.input.pair_features,
    snakemake.output.summary,
    snakemake.output.pairs,
    k=snakemake.params.top_k,
    permutations=snakemake.params.permutations,
    seed=snakemake.params.seed,
)
