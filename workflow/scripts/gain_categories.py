from analysis.logs import log_to_file
from analysis.stats.gain_tests import write_gain_categories

log_to_file(snakemake.log[0])
write_gain_categories(
    snakemake.input.pair_gains, snakemake.input.factors, snakemake.output.categories
)
