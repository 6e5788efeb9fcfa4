from analysis.logs import log_to_file
from analysis.report.transfer_figures import plot_transfer_cost, plot_transfer_vs_mtl

log_to_file(snakemake.log[0])
plot_transfer_vs_mtl(snakemake.input.versus, snakemake.output.versus)
plot_transfer_cost(snakemake.input.gains, snakemake.output.cost)
