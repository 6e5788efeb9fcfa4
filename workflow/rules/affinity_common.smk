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
    return [
        "results/analysis/affinity.csv",
        "results/analysis/affinity_vs_gain.csv",
        "results/figures/affinity_vs_gain.png",
    ]

