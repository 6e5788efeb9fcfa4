from pathlib import Path

from analysis.corpora.fold_check import check_training_classes
from analysis.logs import log_to_file
from analysis.mtl.train import train_study_model

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
datasets = snakemake.params.datasets
clip_rows = None
if "clip_rows" in snakemake.input.keys():  # noqa: SIM118 (a Namedlist: `in` looks at values)
    clip_rows = dict(zip(datasets, snakemake.input.clip_rows))
# Before any training: a class missing from a fold's training part would be scored 0 silently.
check_training_classes(
    snakemake.params.tasks,
    dict(zip(datasets, snakemake.input.manifests)),
    dict(zip(datasets, snakemake.input.splits)),
)
train_study_model(
    tasks=snakemake.params.tasks,
    manifests=dict(zip(datasets, snakemake.input.manifests)),
    features=dict(zip(datasets, snakemake.input.features)),
    splits=dict(zip(datasets, snakemake.input.splits)),
    out_dir=str(Path(snakemake.output.metrics).parent),
    model=snakemake.params.model,
    # settings that change no number (preload_mb) come from the config, so changing them reruns nothing
    training=snakemake.params.training | {"preload_mb": snakemake.config["training"]["preload_mb"]},
    checkpoint_dir=snakemake.params.checkpoints,
    # the schedule is read from the config, not a param, so changing it reruns no training job
    checkpoints=snakemake.config.get("checkpoints"),
    threads=snakemake.threads,
    clip_rows=clip_rows,
)
