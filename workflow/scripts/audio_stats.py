from analysis.logs import log_to_file
from analysis.meta.audio import write_audio_stats

log_to_file(snakemake.log[0])
write_audio_stats(snakemake.input.manifest, snakemake.output.stats)
