from analysis.logs import log_to_file
from analysis.meta.audio import write_audio_stats

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
write_audio_stats(snakemake.input.manifest, snakemake.output.stats)
