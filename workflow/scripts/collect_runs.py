# Also the budget's measured study (rule measured_study), which writes runs and curves only.
from analysis.logs import log_to_file
from analysis.stats.collect import collect_study

log_to_file(snakemake.log[0])
collect_study(
    snakemake.params.single,
    snakemake.params.pairs,
    runs_out=snakemake.output.runs,
    curves_out=snakemake.output.curves,
    per_class_out=snakemake.output.get("per_class"),
    fold_sizes_out=snakemake.output.get("fold_sizes"),
)
