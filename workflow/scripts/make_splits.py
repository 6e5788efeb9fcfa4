from analysis.corpora.splits import make_splits
from analysis.logs import log_to_file

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
make_splits(
    snakemake.input.manifest,
    snakemake.output.splits,
    n_folds=snakemake.params.folds,
    stratify_by=snakemake.params.stratify_by,
    seed=snakemake.params.seed,
    group_by=snakemake.params.group_by,
    folds_from=snakemake.params.folds_from,
    task=snakemake.params.task,
)
