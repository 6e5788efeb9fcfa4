from pathlib import Path

from analysis.logs import log_to_file
from analysis.mtl.affinity import train_affinity_model

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
datasets = snakemake.params.datasets
train_affinity_model(
    out_dir=str(Path(snakemake.output.probe).parent),
    affinity=snakemake.params.affinity,
    tasks=snakemake.params.tasks,
    manifests=dict(zip(datasets, snakemake.input.manifests)),
    features=dict(zip(datasets, snakemake.input.features)),
    splits=dict(zip(datasets, snakemake.input.splits)),
    clip_rows=dict(zip(datasets, snakemake.input.clip_rows)),
    model=snakemake.params.model,
    training=snakemake.params.training | {"preload_mb": snakemake.config["training"]["preload_mb"]},
    threads=snakemake.threads,
)
