from analysis.features.extract import extract_features
from analysis.logs import log_to_file

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
extract_features(
    snakemake.input.manifest,
    snakemake.output.features,
    snakemake.output.description,
    extractor=snakemake.wildcards.extractor,
    params=snakemake.params.settings["params"],
    sample_rate=snakemake.params.sample_rate,
    preparation=snakemake.params.settings["preparation"],
    out_clips=snakemake.output.clips,
    threads=snakemake.threads,
)
