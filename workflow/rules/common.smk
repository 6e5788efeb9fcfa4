"""Config validation, the tables the DAG is built from, and input functions."""

from itertools import combinations
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from analysis.corpora.readers import dataset_config_problems
from analysis.corpora.tasks import normalise_task


validate(config, schema="../schemas/config.schema.yaml")

TASK_NAME = "[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*"


wildcard_constraints:
    dataset=TASK_NAME,
    task=TASK_NAME,
    task_a=TASK_NAME,
    task_b=TASK_NAME,
    corpus=TASK_NAME,


DATASETS = config["datasets"]
EXTRACTOR = config["features"]["extractor"]


def _tasks_by_name(datasets):
    """task name -> {"dataset", "label", options}; a task name must be unique across datasets."""
    tasks = {}
    for dataset, spec in datasets.items():
        for task, value in spec["tasks"].items():
            if task in tasks:
                raise WorkflowError(
                    f"config: task '{task}' is declared by datasets.{tasks[task]['dataset']}.tasks "
                    f"and datasets.{dataset}.tasks; task names must be unique in the study."
                )
            tasks[task] = normalise_task(dataset, value)
    return tasks


def label_columns(dataset):
    """task -> label column of a dataset's tasks."""
    return {task: TASKS[task]["label"] for task in DATASETS[dataset]["tasks"]}


def _check_datasets(datasets):
    problems = [
        problem
        for name, spec in datasets.items()
        for problem in dataset_config_problems(name, spec | {"tasks": label_columns(name)})
    ]
    if problems:
        raise WorkflowError("config problems:\n  " + "\n  ".join(problems))


TASKS = _tasks_by_name(DATASETS)
_check_datasets(DATASETS)
PAIRS = [(a, b) for a, b in combinations(sorted(TASKS), 2)]
if not PAIRS:
    raise WorkflowError("config: the study needs at least two tasks (datasets.*.tasks) to form a pair.")


def dataset_path(dataset):
    spec = DATASETS[dataset]
    return f"resources/demo/{dataset}" if "demo" in spec else spec["path"]


def reader_options(dataset):
    """The reader-specific keys of a dataset's config, passed to the reader unchanged."""
    spec = DATASETS[dataset]
    return {key: spec[key] for key in ("manifest", "pattern", "depth", "group", "extensions") if key in spec}


def stratify_column(dataset):
    spec = DATASETS[dataset]
    return spec.get("stratify_by", next(iter(label_columns(dataset).values())))


# Input functions ---------------------------------------------------------------------------------


def index_inputs(wildcards):
    """A demo dataset is rendered first; a user's manifest file is tracked so an edit reindexes."""
    spec = DATASETS[wildcards.dataset]
    if "demo" in spec:
        return [f"resources/demo/{wildcards.dataset}/manifest.csv"]
    if spec["reader"] == "manifest":
        return [str(Path(spec["path"]) / spec.get("manifest", "manifest.csv"))]
    return []


def model_tasks(names):
    return {task: TASKS[task] for task in names}


def _datasets_of(names):
    return sorted({TASKS[task]["dataset"] for task in names})


def model_inputs(names):
    datasets = _datasets_of(names)
    return {
        "manifests": [f"results/datasets/{d}/manifest.parquet" for d in datasets],
        "features": [f"results/features/{EXTRACTOR}/{d}.npy" for d in datasets],
        "splits": [f"results/splits/{d}.parquet" for d in datasets],
    }


def single_inputs(wildcards):
    return model_inputs([wildcards.task])


def pair_inputs(wildcards):
    return model_inputs([wildcards.task_a, wildcards.task_b])


def single_params(wildcards):
    return model_tasks([wildcards.task])


def pair_params(wildcards):
    return model_tasks([wildcards.task_a, wildcards.task_b])


def single_dirs():
    return {task: f"results/models/single/{task}" for task in sorted(TASKS)}


def pair_dirs():
    return {f"{a}__{b}": f"results/models/pair/{a}__{b}" for a, b in PAIRS}


def all_model_metrics():
    dirs = list(single_dirs().values()) + list(pair_dirs().values())
    return [f"{d}/{name}" for d in dirs for name in ("metrics.parquet", "curve.parquet")]


def all_manifests():
    return [f"results/datasets/{d}/manifest.parquet" for d in sorted(DATASETS)]


# Params functions: each returns only what its job depends on, so that a change reruns exactly the
# jobs it affects.


def demo_spec(wildcards):
    if "demo" not in DATASETS.get(wildcards.corpus, {}):
        raise WorkflowError(f"resources/demo/{wildcards.corpus}: datasets.{wildcards.corpus} has no `demo`.")
    return {"clips": 240, "seed": 0} | DATASETS[wildcards.corpus]["demo"]


def dataset_reader(wildcards):
    return DATASETS[wildcards.dataset]["reader"]


def dataset_tasks(wildcards):
    return label_columns(wildcards.dataset)


def dataset_folder(wildcards):
    return dataset_path(wildcards.dataset)


def dataset_reader_options(wildcards):
    return reader_options(wildcards.dataset)


def split_column(wildcards):
    return stratify_column(wildcards.dataset)


def split_groups(wildcards):
    return "group" if DATASETS[wildcards.dataset].get("group_folds", False) else None


def single_datasets(wildcards):
    return _datasets_of([wildcards.task])


def pair_datasets(wildcards):
    return _datasets_of([wildcards.task_a, wildcards.task_b])
