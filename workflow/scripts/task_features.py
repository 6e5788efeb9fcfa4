from analysis.logs import log_to_file
from analysis.meta.task_features import write_task_features

log_to_file(snakemake.log[0])
write_task_features(
    snakemake.params.tasks,
    manifests=dict(zip(snakemake.params.datasets, snakemake.input.manifests)),
    curves_path=snakemake.input.curves,
    out=snakemake.output.features,
)
