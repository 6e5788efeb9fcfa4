from analysis.logs import log_to_file
from analysis.meta.gain_prediction import write_predicted_gains

log_to_file(snakemake.log[0])
write_predicted_gains(
    snakemake.input.runs,
    snakemake.input.task_features,
    snakemake.params.tasks,
    metric=snakemake.params.metric,
    protocol=snakemake.params.protocol,
    out=snakemake.output.predicted,
)
