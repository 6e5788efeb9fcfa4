from analysis.logs import log_to_file
from analysis.stats.external import import_external

log_to_file(snakemake.log[0])
import_external(
    snakemake.params.folder,
    snakemake.params.metric,
    runs_out=snakemake.output.runs,
    curves_out=snakemake.output.curves,
    per_class_out=snakemake.output.per_class,
    features_out=snakemake.output.features,
    factors_out=snakemake.output.factors,
    fold_sizes_out=snakemake.output.fold_sizes,
)
