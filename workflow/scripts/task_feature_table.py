from analysis.logs import log_to_file
from analysis.meta.task_features import write_task_features_csv

log_to_file(snakemake.log[0])
write_task_features_csv(snakemake.input.features, snakemake.output[0])
