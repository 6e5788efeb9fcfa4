# Transfer interactions with Scalable Weight Reparametrization (`transfer.enabled`, issue 14):
# every task pre-trained once on its training folds, transferred to every other task at each cost
# (analysis/mtl/transfer.py), and its transfer gains analysed beside the MTL gains.

if config["transfer"]["enabled"] and EXTERNAL:
    raise WorkflowError(
        "config: transfer.enabled needs datasets to train on; a study imported with "
        "external_results has no models to transfer. Set transfer.enabled: false."
    )
if config["transfer"]["enabled"] and config["training"].get("early_stopping"):
    raise WorkflowError(
        "config: transfer.enabled needs training without early stopping (training."
        "early_stopping), so that a transferred model has its target's single-task budget."
    )
if config["transfer"]["enabled"] and config["model"]["type"] not in ("dnn", "cnn"):
    raise WorkflowError(
        "config: transfer.enabled needs model.type dnn or cnn (a shared trunk and task heads); "
        f"model.type is {config['model']['type']!r}."
    )
TRANSFER = bool(config["transfer"]["enabled"])
TRANSFER_TASKS = sorted(TASKS) if TRANSFER else []
TRANSFER_PAIRS = [(s, t) for s in TRANSFER_TASKS for t in TRANSFER_TASKS if s != t]


def transfer_dataset_inputs(task):
    dataset = TASKS[task]["dataset"]
    return {
        "manifests": [manifest_input(dataset)],
        "features": [f"results/features/{EXTRACTOR}/{dataset}.npy"],
        "clip_rows": [f"results/features/{EXTRACTOR}/{dataset}.clips.npy"],
        "splits": [f"results/splits/{dataset}.parquet"],
    }


def pretrain_inputs(wildcards):
    return transfer_dataset_inputs(wildcards.task)


def transfer_inputs(wildcards):
    return {
        **transfer_dataset_inputs(wildcards.target),
        "pretrained": f"results/transfer/pretrained/{wildcards.source}.pt",
    }


def transfer_runtime(wildcards, input, attempt):
    """The target trained for the super-net, the policy, every cost and the two references."""
    trainings = 2 + len(config["transfer"]["costs"]) + 2
    return train_runtime(wildcards, input, attempt) * trainings


def transfer_metrics():
    return [f"results/transfer/models/{s}/{t}/metrics.parquet" for s, t in TRANSFER_PAIRS]


def transfer_targets():
    """What `rule all` asks for when transfer is on."""
    if not TRANSFER:
        return []
    return [
        "results/analysis/transfer_gains.csv",
        "results/analysis/transfer_correlations.csv",
        "results/analysis/transfer_vs_mtl.csv",
        "results/figures/transfer_vs_mtl.png",
        "results/figures/transfer_cost.png",
    ]
