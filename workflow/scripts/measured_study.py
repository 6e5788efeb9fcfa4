from analysis.logs import log_to_file
from analysis.stats.collect import collect_study

log_to_file(snakemake.log[0])
collect_study(
    snakemake.params.single,
    snakemake.params.pairs,
    runs_out=snakemake.output.runs,
    curves_out=snakemake.output.curves,
)
