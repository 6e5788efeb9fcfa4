# What each job asks a cluster for: `runtime` (minutes) and `mem_mb`, scaled with the data the job
# reads and with the attempt (a retried job gets twice, three times... the first attempt's request,
# so a job killed at its time or memory limit is not killed again at the same one). Local runs ignore
# them except as limits of --resources. Sizes come from the job's input files when they exist (a job
# whose inputs are still to be made gets the base request in a dry run; Snakemake evaluates the
# request again once its inputs are written, before the job is submitted). Override any of them
# with --set-resources RULE:runtime=... (README, "Running on a SLURM cluster").

import math
import os


def _size_mb(paths):
    """Total size in MB of those of `paths` that exist (0 for files still to be made)."""
    return sum(os.path.getsize(path) for path in paths if os.path.exists(path)) / 1e6


def _audio_hours(manifest):
    """Hours of audio listed by a manifest.parquet (0 while it does not exist yet)."""
    if not os.path.exists(manifest):
        return 0.0
    import pyarrow.parquet as pq

    return float(pq.read_table(manifest, columns=["duration_s"])["duration_s"].to_numpy().sum()) / 3600


# Training: a process with torch loaded is about 600 MB; a feature array up to training.preload_mb is
# held in memory (a larger one is memory-mapped and read per batch). Time: about 3 s per MB of
# features per fold and epoch on one core (measured on the demo study), plus start-up, with margin.
TRAIN_BASE_MB = 1000
TRAIN_BASE_MINUTES = 10
TRAIN_MINUTES_PER_MB_EPOCH = 0.05


def _fold_epochs():
    """Training passes over the data of one model: folds x epochs x seeds."""
    training = config["training"]
    return config["folds"] * training["epochs"] * len(training["seeds"])


def train_mem_mb(wildcards, input, attempt):
    preload = config["training"]["preload_mb"]
    held = sum(min(_size_mb([path]), preload) for path in input.features)
    return math.ceil((TRAIN_BASE_MB + 2 * held) * attempt)


def train_gpus(wildcards):
    """One GPU for a training job when `training.device` is cuda (the SLURM plugin asks for it with
    --gpus); none for cpu, and none for auto, which uses a GPU only where the job finds one."""
    return 1 if config["training"]["device"] == "cuda" else 0


def train_runtime(wildcards, input, attempt):
    work = _size_mb(input.features) * _fold_epochs() * TRAIN_MINUTES_PER_MB_EPOCH
    return math.ceil((TRAIN_BASE_MINUTES + work) * attempt)


# Audio reading (feature extraction, audio statistics): about 2.5 minutes per hour of audio on the
# demo corpora, counted here as 10 with margin for compressed formats and slow file systems.
AUDIO_BASE_MINUTES = 10
AUDIO_MINUTES_PER_HOUR = 10


def audio_runtime(wildcards, input, attempt):
    hours = _audio_hours(input.manifest)
    return math.ceil((AUDIO_BASE_MINUTES + AUDIO_MINUTES_PER_HOUR * hours) * attempt)


def extract_mem_mb(wildcards, input, attempt):
    # The output array is written through a memory map; one clip's audio is in memory at a time.
    return math.ceil(1500 * attempt)


def small_mem_mb(wildcards, attempt):
    """A job that holds one dataset's manifest or one study's tables."""
    return 1000 * attempt


def small_runtime(wildcards, attempt):
    return 30 * attempt


def job_attempt(wildcards, attempt):
    """The attempt number, for the job's log (analysis/logs.py keeps the logs of earlier attempts)."""
    return attempt


# Jobs of a few seconds that read only the study's tables run on the machine running Snakemake:
# on a cluster each would wait in the queue far longer than it runs.
if EXTERNAL:

    localrules:
        import_results,

else:

    localrules:
        collect_runs,
        task_features,


localrules:
    gains,
    pair_gains,
    gain_categories,
    class_gains,
    pair_features,
    correlations,
    prediction,
    regression,
    gain_heatmap,
    gain_category_chart,
    class_gain_chart,
    correlation_chart,
    feature_scatter,
    learning_curve_chart,
    task_feature_table,
    prediction_chart,
    tensorboard_logs,
