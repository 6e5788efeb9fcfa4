from analysis.corpora.readers import index_dataset
from analysis.logs import log_to_file

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
index_dataset(
    snakemake.wildcards.dataset,
    snakemake.params.reader,
    snakemake.params.path,
    tasks=snakemake.params.tasks,
    n_folds=snakemake.params.folds,
    out=snakemake.output.manifest,
    options=snakemake.params.options,
    skipped_out=snakemake.output.skipped,
)
