from analysis.logs import log_to_file
from analysis.stats.detection_gains import write_detection_scores

log_to_file(snakemake.log[0])
write_detection_scores(snakemake.input.runs, snakemake.params.tasks, snakemake.output.scores)
