from analysis.logs import log_to_file
from analysis.stats.affinity_cost import write_affinity_cost

log_to_file(snakemake.log[0])
benchmarks = {
    name: list(snakemake.input[name])
    for name in snakemake.input.keys()  # noqa: SIM118 (a Namedlist: `in` looks at values)
    if name != "probe_cost"
}
write_affinity_cost(benchmarks, snakemake.input.probe_cost, snakemake.output[0])
