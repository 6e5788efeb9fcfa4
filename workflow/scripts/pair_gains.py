from analysis.logs import log_to_file
from analysis.stats.gain_tests import write_pair_gains

log_to_file(snakemake.log[0])
write_pair_gains(
    snakemake.input.gains,
    snakemake.output.pair_gains,
    alpha=snakemake.params.alpha,
    fold_sizes_path=snakemake.input.fold_sizes,
)
