"""Config validation, the tables the DAG is built from, and input functions."""

from itertools import combinations
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from analysis.config import schema as config_schema
from analysis.config_checks import coerce_numbers, sorted_keys as _sorted_keys, top_level_problem
from analysis.corpora.listing import DEFAULT_MANIFEST, dataset_fingerprint, file_digest
from analysis.corpora.presets import resolve_dataset
from analysis.corpora.dataset_checks import dataset_config_problems
from analysis.corpora.tasks import normalise_task
from analysis.mtl.controls import CONTROL_SUFFIX, control_base, control_name
from analysis.mtl.settings import model_keys_used, training_keys_used


_SCHEMA = config_schema()  # the schema `validate` below reads, as the library reads it
# One line for an unknown top-level key (the schema's message would be a page-long dump), and
# numbers PyYAML leaves as strings (`1e-3`) read as numbers before the schema checks them.
if (_problem := top_level_problem(config, _SCHEMA)) is not None:
    raise WorkflowError(_problem)
_coerced = coerce_numbers(config, _SCHEMA)
config.clear()
config.update(_coerced)

# `early_stopping: null` means what leaving it out means; Snakemake's defaults would descend into null.
if (config.get("training") or {}).get("early_stopping", False) is None:
    del config["training"]["early_stopping"]
validate(config, schema="../schemas/config.schema.yaml")


# A job's params must not depend on the order keys are written in the config (YAML mappings are
# unordered), or reordering the config would rerun jobs: every mapping's keys are sorted as text.
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
            if task.endswith(CONTROL_SUFFIX):
                raise WorkflowError(
                    f"config: datasets.{dataset}.tasks.{task}: task names ending in "
                    f"'{CONTROL_SUFFIX}' are reserved for control tasks (`controls: true`)."
                )
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


def _check_psds(psds):
    """sed_scores_eval counts cross-triggers only with both a criterion and a weight."""
    if (psds["cttc_threshold"] is None) != (psds["alpha_ct"] == 0):
        raise WorkflowError(
            "config detection.psds: cttc_threshold and alpha_ct go together: give both (a "
            "criterion in (0, 1] and a weight above 0) to penalise cross-triggers, or neither "
            f"(cttc_threshold null, alpha_ct 0); got {psds['cttc_threshold']} and {psds['alpha_ct']}."
        )


_check_psds(config["detection"]["psds"])

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

# Control tasks (`controls: true`): `t_control` shuffles the labels of `t`; it has a single-task model
# and one pair model, (t, t_control), whose name sorts the same way as every pair's.
CONTROLS = {control_name(task): task for task in sorted(TASKS)} if config.get("controls") else {}
PAIRS += [(task, control) for control, task in CONTROLS.items()]

# Every model the study trains: (kind, name) -> its tasks. One rule (`train_model`) trains them all;
# a new kind of model (a group of tasks...) is a new entry here, under a kind of MODEL_KINDS.
MODEL_KINDS = "single|pair|group"
MODEL_NAME = f"{TASK_NAME}(?:__{TASK_NAME})*"
MODELS = {
    **{("single", task): [task] for task in sorted([*TASKS, *CONTROLS])},
    **{("pair", f"{a}__{b}"): [a, b] for a, b in PAIRS},
}


def task_spec(task):
    """A task's spec for training: a control's is its task's, marked `control: true`."""
    if task in CONTROLS:
        return {**with_detection_settings(TASKS[control_base(task)]), "control": True}
    return with_detection_settings(TASKS[task])


def feature_tasks():
    """Every task's spec for its task features: a control has its task's labels, in another order."""
    return {**TASKS, **{control: TASKS[task] for control, task in CONTROLS.items()}}


def dataset_path(dataset):
    spec = DATASETS[dataset]
    return f"resources/demo/{dataset}" if "demo" in spec else spec["path"]


READER_KEYS = (
    "manifest", "sep", "columns", "pattern", "depth", "group", "extensions",
    "metadata", "derive", "split_lists", "folds_from", "bad_files",
    "events", "activity",
)


def reader_options(dataset):
    """The reader keys of a dataset's config (preset filled in), passed to the reader unchanged."""
    spec = dataset_config(dataset)
    return {key: spec[key] for key in READER_KEYS if key in spec}


def default_split_task(dataset):
    """The task whose name sorts first: its label is the default `stratify_by` (YAML mappings are
    unordered, so the order tasks are written in cannot choose it)."""
    return min(DATASETS[dataset]["tasks"])


def stratify_column(dataset):
    spec = dataset_config(dataset)
    return spec.get("stratify_by", TASKS[default_split_task(dataset)]["label"])


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
        return [str(Path(spec["path"]) / (spec.get("manifest") or DEFAULT_MANIFEST))]
    return []


def manifest_input(dataset):
    """A dataset's manifest as an input: `ancient`, so that indexing again with the same result (a
    touched audio file) reruns nothing; `manifest_digests` is the param that reruns a job when the
    manifest's content changes (index_dataset is a checkpoint: after it runs, Snakemake evaluates
    the jobs that read its manifest again)."""
    return ancient(f"results/datasets/{dataset}/manifest.parquet")


def manifest_digests(datasets):
    """dataset -> content hash of its manifest ("" before it is indexed)."""
    return {d: file_digest(f"results/datasets/{d}/manifest.parquet") for d in datasets}


def dataset_manifest_digest(wildcards):
    return manifest_digests([wildcards.dataset])


def all_manifest_digests(wildcards):
    return manifest_digests(sorted(DATASETS))


def _datasets_of(names):
    return sorted({task_spec(task)["dataset"] for task in names})


def model_task_names(wildcards):
    """The tasks of the model `results/models/{kind}/{name}`."""
    if wildcards.kind == "group" and all(task in TASKS for task in wildcards.name.split("__")):
        return wildcards.name.split("__")  # a task group (config `groups`): its tasks joined by `__`
    try:
        return MODELS[(wildcards.kind, wildcards.name)]
    except KeyError:
        raise WorkflowError(
            f"results/models/{wildcards.kind}/{wildcards.name}: not a model of this study "
            f"(its {wildcards.kind} models: {', '.join(sorted(n for k, n in MODELS if k == wildcards.kind))})."
        ) from None


def model_inputs(wildcards):
    datasets = _datasets_of(model_task_names(wildcards))
    inputs = {
        "manifests": [manifest_input(d) for d in datasets],
        "features": [f"results/features/{EXTRACTOR}/{d}.npy" for d in datasets],
        "clip_rows": [f"results/features/{EXTRACTOR}/{d}.clips.npy" for d in datasets],
        "splits": [f"results/splits/{d}.parquet" for d in datasets],
    }
    if set(model_task_names(wildcards)) & set(detection_tasks()):  # their frame grid (hop, frames)
        inputs["frame_grids"] = [f"results/features/{EXTRACTOR}/{d}.json" for d in datasets]
    return inputs


def model_tasks(wildcards):
    """task -> its spec, for the model's tasks."""
    return {task: task_spec(task) for task in model_task_names(wildcards)}


def model_datasets(wildcards):
    return _datasets_of(model_task_names(wildcards))


def model_manifest_digests(wildcards):
    return manifest_digests(model_datasets(wildcards))


def model_params():
    """The `model` settings the study's model type reads (analysis.mtl.settings)."""
    return model_keys_used(config["model"])


def training_params():
    """The `training` settings that change numbers; the job reads the others from the config."""
    return training_keys_used(config["training"])


def model_dirs(kind):
    """name -> results folder of every model of one kind."""
    return {name: f"results/models/{kind}/{name}" for k, name in sorted(MODELS) if k == kind}


def single_dirs():
    return model_dirs("single")


def pair_dirs():
    return model_dirs("pair")


def tensorboard_targets():
    """TensorBoard logs of every model, when the config asks for them."""
    if not config["tensorboard"]:
        return []
    if config["pairs"]["select"] != "all":  # budgeted: the chosen pairs' logs, budget_tensorboard_targets
        return [f"results/tensorboard/{kind}/{name}" for kind, name in sorted(MODELS) if kind == "single"]
    return [f"results/tensorboard/{kind}/{name}" for kind, name in sorted(MODELS)]


def all_model_metrics():
    names = ("metrics.parquet", "curve.parquet", "per_class.parquet")
    return [f"results/models/{kind}/{name}/{file}" for kind, name in sorted(MODELS) for file in names]


def all_manifests():
    return [manifest_input(d) for d in sorted(DATASETS)]


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


def dataset_files(wildcards):
    """A fingerprint of the dataset's audio files and tables (path, size, modification time): a
    changed file set reruns the indexing (and, through it, only what the new manifest changes)."""
    if "demo" in DATASETS[wildcards.dataset]:
        return ""
    options = reader_options(wildcards.dataset) | {"reader": dataset_config(wildcards.dataset)["reader"]}
    return dataset_fingerprint(dataset_path(wildcards.dataset), options)


def split_column(wildcards):
    return stratify_column(wildcards.dataset)


def split_task(wildcards):
    """The first task of the dataset whose label is the stratification column, or None."""
    column = stratify_column(wildcards.dataset)
    tasks = sorted(DATASETS[wildcards.dataset]["tasks"])
    tasks = [task for task in tasks if TASKS[task]["label"] == column]
    return {"name": tasks[0], **TASKS[tasks[0]]} if tasks else None


def split_groups(wildcards):
    return "group" if dataset_config(wildcards.dataset)["group_folds"] else None


def split_predefined(wildcards):
    """The dataset's `folds_from` (its corpus's own split), or None for k-fold."""
    return dataset_config(wildcards.dataset).get("folds_from") or None


# Detection tasks (issue 14) --------------------------------------------------------------------


def detection_tasks():
    """The study's detection tasks and their controls (a control's type is its task's)."""
    return sorted(task for task, spec in feature_tasks().items() if spec.get("type") == "detection")


def detection_gain_settings():
    """Settings of the gains job for detection tasks ({} in a study without them)."""
    tasks = detection_tasks()
    return {"tasks": tasks, "gain_metric": config["detection"]["gain_metric"]} if tasks else {}


def with_detection_settings(spec):
    """A detection task's spec for training carries the `detection` settings (others unchanged)."""
    return {**spec, "detection": config["detection"]} if spec.get("type") == "detection" else spec


def detection_targets():
    """The detection report table, in a study with detection tasks."""
    return ["results/analysis/detection_scores.csv"] if detection_tasks() else []
