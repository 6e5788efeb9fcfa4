"""Config validation, the tables the DAG is built from, and input functions."""

from itertools import combinations
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from analysis.corpora.presets import resolve_dataset
from analysis.corpora.readers import dataset_config_problems
from analysis.corpora.tasks import normalise_task


validate(config, schema="../schemas/config.schema.yaml")


def _sorted_keys(value):
    """`value` with the keys of every mapping in it sorted (lists keep their order)."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


# A job's params must not depend on the order keys are written in the config, or reordering the
# config would rerun jobs; only a dataset's first task keeps a meaning (its label is the default
# stratification column), so it is noted before the keys are sorted.
FIRST_TASK = {name: next(iter(spec["tasks"])) for name, spec in config.get("datasets", {}).items()}
_canonical_config = _sorted_keys(config)
config.clear()
config.update(_canonical_config)

TASK_NAME = "[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*"


wildcard_constraints:
    dataset=TASK_NAME,
    task=TASK_NAME,
    task_a=TASK_NAME,
    task_b=TASK_NAME,
    corpus=TASK_NAME,


EXTERNAL = config.get("external_results")
DATASETS = config.get("datasets", {})
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
            tasks[task] = _sorted_keys(normalise_task(dataset, value))
    return tasks


def dataset_config(dataset):
    """A dataset's config with its corpus preset's keys filled in (`reader` is the base reader)."""
    return resolve_dataset(DATASETS[dataset])


def _check_datasets(datasets):
    problems = [
        problem
        for name, spec in datasets.items()
        for problem in dataset_config_problems(name, spec)
    ]
    if problems:
        raise WorkflowError("config problems:\n  " + "\n  ".join(problems))


def _check_external(folder):
    """An external study (no datasets, no training) needs its folder and the two required tables."""
    for name in ("", "runs.csv", "curves.csv"):
        if not (Path(folder) / name).exists():
            raise WorkflowError(
                f"config external_results: '{Path(folder) / name}' does not exist; give the folder "
                "holding runs.csv and curves.csv (README.md, 'Studies trained elsewhere')."
            )


# No file is looked at while the Snakefile is parsed (every SLURM job parses it again, on its node):
# the dataset folders and external tables are checked by the input functions of the jobs that read
# them (index_inputs, external_inputs), when the DAG is built, before any job runs.
if EXTERNAL:
    TASKS, PAIRS = {}, []
else:
    TASKS = _tasks_by_name(DATASETS)
    PAIRS = [(a, b) for a, b in combinations(sorted(TASKS), 2)]
    if not PAIRS:
        raise WorkflowError("config: the study needs at least two tasks (datasets.*.tasks) to form a pair.")


def dataset_path(dataset):
    spec = DATASETS[dataset]
    return f"resources/demo/{dataset}" if "demo" in spec else spec["path"]


READER_KEYS = (
    "manifest", "sep", "columns", "pattern", "depth", "group", "extensions",
    "metadata", "derive", "split_lists", "folds_from", "bad_files",
)


def reader_options(dataset):
    """The reader keys of a dataset's config (preset filled in), passed to the reader unchanged."""
    spec = dataset_config(dataset)
    return {key: spec[key] for key in READER_KEYS if key in spec}


def stratify_column(dataset):
    spec = dataset_config(dataset)
    return spec.get("stratify_by", TASKS[FIRST_TASK[dataset]]["label"])


# Input functions ---------------------------------------------------------------------------------


_CHECKED_DATASETS = set()


def index_inputs(wildcards):
    """A demo dataset is rendered first; a user's manifest file is tracked so an edit reindexes.

    The datasets' config is checked against the file system here (folder, manifest header...), when
    the DAG is built, not at parse time: Snakemake's own process checks every dataset once, so one
    message lists every problem; a job's process (on a cluster node) checks only its dataset."""
    names = sorted(DATASETS) if workflow.is_main_process else [wildcards.dataset]
    _check_datasets({name: DATASETS[name] for name in names if name not in _CHECKED_DATASETS})
    _CHECKED_DATASETS.update(names)
    spec = dataset_config(wildcards.dataset)
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
        "clip_rows": [f"results/features/{EXTRACTOR}/{d}.clips.npy" for d in datasets],
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


def tensorboard_targets():
    """TensorBoard logs of every model, when the config asks for them."""
    if not config.get("tensorboard", False):
        return []
    models = list(single_dirs().values()) + list(pair_dirs().values())
    return [model.replace("results/models/", "results/tensorboard/", 1) for model in models]


def all_model_metrics():
    dirs = list(single_dirs().values()) + list(pair_dirs().values())
    names = ("metrics.parquet", "curve.parquet", "per_class.parquet")
    return [f"{d}/{name}" for d in dirs for name in names]


def all_manifests():
    return [f"results/datasets/{d}/manifest.parquet" for d in sorted(DATASETS)]


def all_audio_stats():
    return [f"results/datasets/{d}/audio_stats.parquet" for d in sorted(DATASETS)]


def dataset_factors():
    """dataset -> its declared `domain` and `label_type` (the non-numeric factors of its tasks)."""
    return {
        dataset: {key: spec[key] for key in ("domain", "label_type") if key in spec}
        for dataset, spec in sorted(DATASETS.items())
    }


def external_inputs(wildcards):
    """The tables of an external study; the optional ones only when they exist (looked at when
    the DAG is built, not at parse time)."""
    _check_external(EXTERNAL)
    names = ["runs.csv", "curves.csv", "task_features.csv", "per_class.csv"]
    paths = [Path(EXTERNAL) / name for name in names]
    return [str(path) for path in paths[:2]] + [str(path) for path in paths[2:] if path.exists()]


# Params functions: each returns only what its job depends on, so that a change reruns exactly the
# jobs it affects.


def demo_spec(wildcards):
    if "demo" not in DATASETS.get(wildcards.corpus, {}):
        raise WorkflowError(f"resources/demo/{wildcards.corpus}: datasets.{wildcards.corpus} has no `demo`.")
    return {"clips": 240, "seed": 0} | DATASETS[wildcards.corpus]["demo"]


def dataset_reader(wildcards):
    return dataset_config(wildcards.dataset)["reader"]


def dataset_tasks(wildcards):
    """task -> full task spec (docs/contracts.md, Tasks) of the dataset's tasks."""
    return {task: TASKS[task] for task in DATASETS[wildcards.dataset]["tasks"]}


def dataset_folder(wildcards):
    return dataset_path(wildcards.dataset)


def dataset_reader_options(wildcards):
    return reader_options(wildcards.dataset)


def split_column(wildcards):
    return stratify_column(wildcards.dataset)


def split_task(wildcards):
    """The first task of the dataset whose label is the stratification column, or None."""
    column = stratify_column(wildcards.dataset)
    tasks = [FIRST_TASK[wildcards.dataset]] + list(DATASETS[wildcards.dataset]["tasks"])
    tasks = [task for task in tasks if TASKS[task]["label"] == column]
    return {"name": tasks[0], **TASKS[tasks[0]]} if tasks else None


def split_groups(wildcards):
    return "group" if dataset_config(wildcards.dataset).get("group_folds", False) else None


def split_predefined(wildcards):
    """The dataset's `folds_from` (its corpus's own split), or None for k-fold."""
    return dataset_config(wildcards.dataset).get("folds_from") or None


def single_datasets(wildcards):
    return _datasets_of([wildcards.task])


def pair_datasets(wildcards):
    return _datasets_of([wildcards.task_a, wildcards.task_b])
