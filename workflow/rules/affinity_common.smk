"""Tables and input functions of the task-affinity rules (affinity.smk)."""

AFFINITY_TASKS = sorted(task for kind, task in MODELS if kind == "single")


def affinity_model_inputs(wildcards):
    datasets = _datasets_of(AFFINITY_TASKS)
    return {
        "manifests": [manifest_input(d) for d in datasets],
        "features": [f"results/features/{EXTRACTOR}/{d}.npy" for d in datasets],
        "clip_rows": [f"results/features/{EXTRACTOR}/{d}.clips.npy" for d in datasets],
        "splits": [f"results/splits/{d}.parquet" for d in datasets],
    }


def affinity_targets():
    """The affinity tables the study writes (none for an imported study: it has no models)."""
    if EXTERNAL:
        return []
    targets = [
        "results/analysis/affinity.csv",
        "results/analysis/affinity_vs_gain.csv",
        "results/figures/affinity_vs_gain.png",
    ]
    # affinity_cost.csv sets the affinity path against training every pair: a budgeted study does
    # not train every pair (asking for it would), and its cost.csv does that accounting.
    if PAIR_SELECT == "all":
        targets.append("results/analysis/affinity_cost.csv")
    return targets


def model_benchmarks(kind):
    """The benchmark files of the training jobs of one kind of model (single, pair, group)."""
    return [f"results/benchmarks/train_model/{kind}/{name}.tsv" for name in model_dirs(kind)]


def affinity_cost_benchmarks(wildcards):
    """Path name -> the benchmark files of its jobs, for `affinity_cost.csv`."""
    return {
        "single-task models": model_benchmarks("single"),
        "pair models (every pair trained)": model_benchmarks("pair"),
        "affinity model (all tasks, probe included)": ["results/benchmarks/train_affinity_model.tsv"],
    }
