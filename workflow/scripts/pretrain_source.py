from analysis.logs import log_to_file
from analysis.mtl.transfer_job import pretrain_study_source

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
(dataset,) = {spec["dataset"] for spec in snakemake.params.task.values()}
pretrain_study_source(
    task=snakemake.params.task,
    paths={role: {dataset: snakemake.input[role][0]}
           for role in ("manifests", "features", "splits", "clip_rows")},
    out_path=snakemake.output[0],
    model=snakemake.params.model,
    training=snakemake.params.training | {"preload_mb": snakemake.config["training"]["preload_mb"]},
    threads=snakemake.threads,
)
