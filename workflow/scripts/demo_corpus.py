from pathlib import Path

from analysis.corpora.demo import generate_demo_corpus
from analysis.logs import log_to_file

log_to_file(snakemake.log[0], attempt=snakemake.resources.get("attempt"))
spec = snakemake.params.spec
generate_demo_corpus(
    spec["kind"],
    Path(snakemake.output.manifest).parent,
    n_clips=spec["clips"],
    seed=spec["seed"],
    sample_rate=snakemake.params.sample_rate,
)
