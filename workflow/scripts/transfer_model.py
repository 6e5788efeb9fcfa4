from pathlib import Path

from analysis.logs import log_to_file
from analysis.mtl.transfer_job import transfer_study_model

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
(dataset,) = {spec["dataset"] for spec in snakemake.params.target.values()}
transfer_study_model(
    target=snakemake.params.target,
    pretrained_path=snakemake.input.pretrained,
    paths={role: {dataset: snakemake.input[role][0]}
           for role in ("manifests", "features", "splits", "clip_rows")},
    out_dir=str(Path(snakemake.output[0]).parent),
    model=snakemake.params.model,
    training=snakemake.params.training | {"preload_mb": snakemake.config["training"]["preload_mb"]},
    transfer=snakemake.params.transfer,
    threads=snakemake.threads,
)
