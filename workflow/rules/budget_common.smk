# Budgeted studies (config `pairs`), the functions (the rules are in budget.smk): which pair models collect_runs asks for. With `select: all`
# every pair of MODELS (today's DAG); with `affinity` or `predicted` the choice is read from a
# checkpoint's table, so the DAG below collect_runs is resolved after that checkpoint has run.

import pandas as pd

from analysis.meta.selection import select_pairs

PAIR_SELECT = config["pairs"]["select"]
PER_TASK = config["pairs"]["per_task"]
MEASURED = sorted({tuple(sorted(pair)) for pair in config["pairs"]["measured"]})
CONTROL_PAIRS = [(task, control) for control, task in CONTROLS.items()]


def _check_measured():
    for pair in config["pairs"]["measured"]:
        unknown = [task for task in pair if task not in TASKS]
        if unknown:
            raise WorkflowError(
                f"config pairs.measured: {list(pair)} names {', '.join(unknown)}, not a task of the "
                f"study; list pairs of the tasks declared under datasets.*.tasks ({', '.join(sorted(TASKS))})."
            )
        if pair[0] == pair[1]:
            raise WorkflowError(f"config pairs.measured: {list(pair)} pairs a task with itself; give two tasks.")
    if PAIR_SELECT == "predicted" and not MEASURED:
        raise WorkflowError(
            "config pairs.select: predicted needs pairs already measured to fit the meta-model on: "
            "list them in pairs.measured (e.g. the pairs of a finished study), or use select: all."
        )


def _check_groups(groups):
    if groups and groups["networks"] > len(TASKS):
        raise WorkflowError(
            f"config groups.networks: {groups['networks']} networks for {len(TASKS)} tasks; give a "
            f"number from 1 to {len(TASKS)} (each network holds at least one task)."
        )


if not EXTERNAL:
    _check_measured()
    _check_groups(config.get("groups"))


def _pair_scores_path():
    """The table the budgeted choice reads (waits for its checkpoint)."""
    if PAIR_SELECT == "affinity":
        checkpoints.affinity.get()
        return "results/analysis/affinity.csv"
    checkpoints.predicted_gains.get()
    return "results/analysis/predicted_gains.csv"


def budgeted_pairs():
    """The pairs the study trains: all, or each main task's `per_task` best partners (plus the
    measured pairs and the control pairs, which are always trained)."""
    if PAIR_SELECT == "all":
        return PAIRS
    scores = pd.read_csv(_pair_scores_path())
    chosen = select_pairs(scores, TASKS, PER_TASK, PAIR_SELECT)
    return sorted(set(chosen) | set(MEASURED)) + CONTROL_PAIRS


def budgeted_pair_dirs(wildcards=None):
    if PAIR_SELECT == "all":
        return pair_dirs()
    return {f"{a}__{b}": f"results/models/pair/{a}__{b}" for a, b in budgeted_pairs()}


def budgeted_model_metrics(wildcards=None):
    """Every file collect_runs reads from the models the study trains."""
    if PAIR_SELECT == "all":
        return all_model_metrics()
    dirs = [*single_dirs().values(), *budgeted_pair_dirs().values()]
    names = ("metrics.parquet", "curve.parquet", "per_class.parquet", "efficiency.json")
    return [_pair_scores_path(), *(f"{folder}/{name}" for folder in dirs for name in names)]


def variance_targets():
    """A study trained elsewhere (external_results) has no models, so no layer variances."""
    return [] if EXTERNAL else ["results/analysis/layer_variances.csv",
                                "results/figures/layer_variances.png"]


def model_variance_files(wildcards=None):
    """The intermediate output variances of the single-task and (chosen) pair models."""
    return [f"{folder}/variances.parquet"
            for folder in [*single_dirs().values(), *budgeted_pair_dirs().values()]]


def measured_pair_dirs():
    return {f"{a}__{b}": f"results/models/pair/{a}__{b}" for a, b in MEASURED}


# Task groups (config `groups`) -------------------------------------------------------------------

GROUPS = config.get("groups")
GROUP_SOURCES = {
    "gains": ("results/analysis/pair_gains.csv", "mean_gain"),
    "affinity": ("results/analysis/affinity.csv", "lookahead"),
}


def group_source(wildcards=None):
    """The pair-score table the groups are chosen from (waits for the affinity checkpoint)."""
    path, _ = GROUP_SOURCES[GROUPS["from"]]
    if GROUPS["from"] == "affinity":
        checkpoints.affinity.get()
    return path


def chosen_groups():
    """Names (tasks joined by `__`) of the chosen groups of two or more tasks (waits for task_groups)."""
    table = pd.read_csv(checkpoints.task_groups.get().output.groups)
    return sorted(set(table.loc[table["size"] > 1, "group"]))


def group_model_dirs(wildcards=None):
    """group name -> the folder of its model; a group of two tasks whose pair model the study
    trains anyway is that pair model (the same network and budget), not trained twice."""
    pairs = {f"{a}__{b}" for a, b in budgeted_pairs()}
    return {
        name: f"results/models/{'pair' if name in pairs else 'group'}/{name}"
        for name in chosen_groups()
    }


def group_model_metrics(wildcards):
    return [f"{folder}/metrics.parquet" for folder in group_model_dirs().values()]


def group_targets():
    """What `rule all` asks for when the config has `groups`."""
    if not GROUPS:
        return []
    return ["results/analysis/group_gains.csv", "results/figures/group_gains.png"]


# Cost accounting (every study that trains its models) ---------------------------------------------


def cost_targets():
    """cost.csv and its figure; none for an imported study (no training jobs to account for)."""
    return [] if EXTERNAL else ["results/analysis/cost.csv", "results/figures/cost.png"]


def cost_inputs(wildcards):
    """The files whose jobs must have finished before their benchmarks are read."""
    files = {"runs": "results/study/runs.parquet",
             "affinity": "results/analysis/affinity.csv",
             "probe_cost": "results/affinity/model/probe_cost.json"}
    if GROUPS:
        files |= {"task_groups": "results/analysis/task_groups.csv",
                  "group_gains": "results/analysis/group_gains.csv"}
    if PAIR_SELECT != "all":
        files["pair_scores"] = _pair_scores_path()
    return files


def cost_models(wildcards):
    """The models of each path, by name."""
    return {
        "singles": sorted(single_dirs()),
        "all_pairs": sorted(pair_dirs()),
        "trained_pairs": sorted(budgeted_pair_dirs()),
        "groups": [name for name, folder in group_model_dirs().items() if "/group/" in folder] if GROUPS else None,
    }


def budget_targets():
    """What `rule all` asks for when the study is budgeted (`pairs.select`) or has `groups`."""
    targets = group_targets()
    if PAIR_SELECT != "all":
        targets += ["results/analysis/pair_choices.csv"]
    if PAIR_SELECT == "predicted":
        targets += ["results/analysis/predicted_gains.csv"]
    return targets


def budget_tensorboard_targets(wildcards):
    """TensorBoard logs of the chosen pair models of a budgeted study (`tensorboard: true`)."""
    if not config["tensorboard"] or PAIR_SELECT == "all":
        return []
    return [f"results/tensorboard/pair/{name}" for name in budgeted_pair_dirs()]
