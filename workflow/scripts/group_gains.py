from analysis.logs import log_to_file
from analysis.stats.group_gains import write_group_gains

log_to_file(snakemake.log[0])
write_group_gains(
    snakemake.input.runs,
    snakemake.input.groups,
    snakemake.params.group_dirs,
    snakemake.params.metric,
    snakemake.output.group_gains,
    alpha=snakemake.params.alpha,
    fold_sizes_path=snakemake.input.fold_sizes,
)
