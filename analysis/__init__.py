"""Audio task-interaction study: the importable library behind the Snakemake workflow."""
