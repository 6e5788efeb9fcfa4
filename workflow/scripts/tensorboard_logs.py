from analysis.logs import log_to_file
from analysis.mtl.tensorboard import write_tensorboard_logs

log_to_file(snakemake.log[0])
write_tensorboard_logs(snakemake.input.curve, snakemake.input.history, snakemake.output[0])
