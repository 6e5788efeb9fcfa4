import pandas as pd

from analysis.logs import log_to_file
from analysis.meta.grouping import best_partition, partition_table

log_to_file(snakemake.log[0])
scores = pd.read_csv(snakemake.input.scores)
column = snakemake.params.column
partition, search = best_partition(scores, snakemake.params.tasks, snakemake.params.networks, column)
partition_table(scores, partition, column, search).to_csv(snakemake.output.groups, index=False)
