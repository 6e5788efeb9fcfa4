"""Small generated audio datasets in the layout a user's `reader: manifest` dataset has."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import yaml

SAMPLE_RATE = 8000
REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def snakemake_command(study: Path, config: dict, *args: str, cores: int = 2) -> list[str]:
    """Write `config` as study/study.yaml (keys in the order given) and return the command that
    runs the repository's workflow on it, every output under `study`."""
    config_path = study / "study.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "--directory", str(study),
            "--configfile", str(config_path), "--cores", str(cores), *args]


def run_snakemake(study: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_command(study, config, *args), capture_output=True, text=True,
                          timeout=600)


def planned_jobs(dry_run_output: str) -> dict[str, set[str]]:
    """rule -> set of its jobs' first outputs, read from the output of `snakemake` (a dry run lists
    the jobs it would run, a run the jobs it ran)."""
    jobs: dict[str, set[str]] = defaultdict(set)
    rule = None
    for line in dry_run_output.splitlines():
        if match := re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):$", line.strip()):
            rule = match.group(1)
            if rule == "all":
                jobs[rule].add("all")
        elif rule and line.strip().startswith("output:"):
            jobs[rule].add(line.split(":", 1)[1].strip().split(",")[0])
            rule = None
    return dict(jobs)


def trained_models(jobs: dict[str, set[str]], kind: str) -> set[str]:
    """The `metrics.parquet` of the planned `train_model` jobs of one kind (single, pair, group)."""
    return {path for path in jobs.get("train_model", set()) if path.startswith(f"results/models/{kind}/")}


def _tone(freq: float, level: float, rng: np.random.Generator, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    noise = 0.05 * rng.standard_normal(t.size)
    return (level * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


def _noise(colour: str, rng: np.random.Generator, seconds: float) -> np.ndarray:
    white = rng.standard_normal(int(seconds * SAMPLE_RATE))
    if colour == "brown":
        white = np.cumsum(white)
        white -= white.mean()
    return (0.3 * white / np.abs(white).max()).astype(np.float32)


def write_manifest_dataset(folder: Path, rows: list[dict], clips: list[np.ndarray]) -> Path:
    """Write clips as wav files under folder/audio and the manifest.csv that lists them."""
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    for row, clip in zip(rows, clips):
        sf.write(folder / row["path"], clip, SAMPLE_RATE)
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    return folder


def tones_dataset(folder: Path, per_class: int = 8, seed: int = 0) -> Path:
    """Sine tones labelled by pitch (3 classes) and level (2 classes)."""
    rng = np.random.default_rng(seed)
    rows, clips = [], []
    for pitch, freq in {"low": 300.0, "mid": 800.0, "high": 2000.0}.items():
        for i in range(per_class):
            level = "loud" if i % 2 else "soft"
            clips.append(_tone(freq, 0.8 if level == "loud" else 0.1, rng, 0.3))
            rows.append({"path": f"audio/{pitch}_{i:02d}.wav", "pitch": pitch, "level": level})
    return write_manifest_dataset(folder, rows, clips)


def noise_dataset(folder: Path, per_class: int = 8, seed: int = 1) -> Path:
    """White or brown noise, labelled by colour."""
    rng = np.random.default_rng(seed)
    rows, clips = [], []
    for colour in ("white", "brown"):
        for i in range(per_class):
            clips.append(_noise(colour, rng, 0.3))
            rows.append({"path": f"audio/{colour}_{i:02d}.wav", "colour": colour})
    return write_manifest_dataset(folder, rows, clips)


def chirps_dataset(folder: Path, per_class: int = 8, seed: int = 2) -> Path:
    """Rising or falling chirps, labelled by direction."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.3 * SAMPLE_RATE)) / SAMPLE_RATE
    rows, clips = [], []
    for direction, (f0, f1) in {"up": (200.0, 3000.0), "down": (3000.0, 200.0)}.items():
        for i in range(per_class):
            phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * t[-1]))
            clips.append((0.5 * np.sin(phase) + 0.05 * rng.standard_normal(t.size)).astype(np.float32))
            rows.append({"path": f"audio/{direction}_{i:02d}.wav", "direction": direction})
    return write_manifest_dataset(folder, rows, clips)


# A tiny study of three tasks on two generated datasets (a third, chirps, is on disk to be added):
# the `finished_study` fixture (conftest.py) runs it once per test run.
BASE_CONFIG = {
    "sample_rate": 8000,
    "folds": 2,
    "gain_metric": "accuracy",
    "features": {"extractor": "logfbank_summary", "params": {"n_mels": 8}},
    "model": {"type": "dnn", "hidden": [16, 16, 16], "dropout": 0.0},
    "training": {"epochs": 2, "batch_size": 16, "seeds": [0]},
    "analysis": {"repetitions": 2, "cv_folds": 2, "seed": 0},
    "datasets": {
        "tones": {
            "reader": "manifest",
            "path": "data/tones",
            "tasks": {"tones_pitch": "pitch", "tones_level": "level"},
        },
        "noise": {"reader": "manifest", "path": "data/noise", "tasks": {"noise_colour": "colour"}},
    },
}
