from analysis.logs import log_to_file
from analysis.stats.detection_gains import write_study_gains

log_to_file(snakemake.log[0])
write_study_gains(snakemake.input.runs, snakemake.params.metric, snakemake.params.detection,
                  snakemake.output.gains)
