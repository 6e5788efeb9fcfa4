from analysis.logs import log_to_file
from analysis.report.budget_figures import group_gain_figure

log_to_file(snakemake.log[0])
group_gain_figure(snakemake.input.group_gains, snakemake.output.figure)
