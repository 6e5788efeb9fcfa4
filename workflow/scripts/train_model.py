from pathlib import Path

from analysis.logs import log_to_file
from analysis.mtl.train import train_study_model

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
datasets = snakemake.params.datasets
clip_rows = None
if "clip_rows" in snakemake.input.keys():
    clip_rows = dict(zip(datasets, snakemake.input.clip_rows))
train_study_model(
    tasks=snakemake.params.tasks,
    manifests=dict(zip(datasets, snakemake.input.manifests)),
    features=dict(zip(datasets, snakemake.input.features)),
    splits=dict(zip(datasets, snakemake.input.splits)),
    out_dir=str(Path(snakemake.output.metrics).parent),
    model=snakemake.params.model,
    training=snakemake.params.training,
    checkpoint_dir=snakemake.params.checkpoints,
    threads=snakemake.threads,
    clip_rows=clip_rows,
)
