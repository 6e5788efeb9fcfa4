from analysis.logs import log_to_file
from analysis.stats.prediction import write_prediction

log_to_file(snakemake.log[0])
write_prediction(
    snakemake.input.gains,
    snakemake.input.pair_gains,
    snakemake.input.pair_features,
    scores_csv=snakemake.output.scores,
    coefficients_csv=snakemake.output.coefficients,
    protocol=snakemake.params.protocol,
    permutations=snakemake.params.permutations,
    repetitions=snakemake.params.repetitions,
    n_splits=snakemake.params.cv_folds,
    seed=snakemake.params.seed,
)
