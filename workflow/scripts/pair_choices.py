import pandas as pd

from analysis.logs import log_to_file
from analysis.meta.selection import choices_with_gains

log_to_file(snakemake.log[0])
table = choices_with_gains(pd.read_csv(snakemake.input.scores), pd.read_csv(snakemake.input.pair_gains),
                           snakemake.params.tasks, snakemake.params.per_task, snakemake.params.select)
table.to_csv(snakemake.output.choices, index=False)
