from analysis.logs import log_to_file
from analysis.report.budget_figures import cost_figure
from analysis.stats.cost import cost_table

log_to_file(snakemake.log[0])
models = snakemake.params.models
table = cost_table("results/benchmarks", models["singles"], models["all_pairs"], models["trained_pairs"],
                   models["groups"], snakemake.input.probe_cost)
table.to_csv(snakemake.output.cost, index=False)
cost_figure(snakemake.output.cost, snakemake.output.figure)
