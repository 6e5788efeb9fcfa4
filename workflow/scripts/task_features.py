# Also the budget's measured study (rule measured_task_features), which writes no factors table.
from analysis.logs import log_to_file
from analysis.meta.task_features import write_task_features

log_to_file(snakemake.log[0])
datasets = snakemake.params.datasets
write_task_features(
    snakemake.params.tasks,
    manifests=dict(zip(datasets, snakemake.input.manifests)),
    curves_path=snakemake.input.curves,
    out=snakemake.output.features,
    audio_stats=dict(zip(datasets, snakemake.input.audio_stats)),
    factors=snakemake.params.get("factors"),
    factors_out=snakemake.output.get("factors"),
)
