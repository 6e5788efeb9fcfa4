"""A small detection study end to end (slow: runs with pytest --slow): a detection task and an
activity task derived from its annotations, on the demo event corpus."""

from __future__ import annotations

import pandas as pd
import pytest
from study_data import run_snakemake as snakemake

pytestmark = pytest.mark.workflow

CONFIG = {
    "folds": 2,
    "detection": {"gain_metric": "segment_er"},
    "features": {"extractor": "logmel_patches", "params": {"n_mels": 16, "hop_ms": 40},
                 "preparation": {"mode": "fixed", "frames": 48}},
    "model": {"type": "frame_dnn", "hidden": [16]},
    "training": {"epochs": 2, "batch_size": 8},
    "analysis": {"repetitions": 2, "cv_folds": 2},
    "datasets": {
        "scenes": {
            "demo": {"kind": "events", "clips": 24, "seed": 2},
            "reader": "manifest",
            "events": "events.tsv",
            "activity": {"activity": {"classes": {"event": ["*"]}, "default": "no_event"}},
            "stratify_by": "activity",
            "tasks": {"scenes_events": {"label": "events", "type": "detection"},
                      "scenes_activity": "activity"},
        },
    },
}


def test_detection_study_scores_events_and_flips_the_error_rate_gain(tmp_path):
    result = snakemake(tmp_path, CONFIG, "results/study/gains.parquet",
                       "results/analysis/detection_scores.csv")
    assert result.returncode == 0, result.stderr[-3000:]
    runs = pd.read_parquet(tmp_path / "results/study/runs.parquet")
    detection = runs[runs["task"] == "scenes_events"]
    assert {"segment_f1", "segment_er", "event_f1", "frame_f1"} <= set(detection["metric"])
    manifest = pd.read_parquet(tmp_path / "results/datasets/scenes/manifest.parquet")
    assert {"events", "activity"} <= set(manifest.columns)
    scores = pd.read_csv(tmp_path / "results/analysis/detection_scores.csv")
    assert len(scores) == 2 and scores["segment_er"].notna().all()
    gains = pd.read_parquet(tmp_path / "results/study/gains.parquet")
    detection_gains = gains[gains["main"] == "scenes_events"]
    assert len(detection_gains) == 2 and (detection_gains["metric"] == "segment_er").all()
    assert detection_gains["lower_is_better"].all()
    expected = detection_gains["single"] - detection_gains["pair"]
    assert detection_gains["gain"].to_numpy() == pytest.approx(expected.to_numpy())
    assert (gains.loc[gains["main"] == "scenes_activity", "metric"] == "macro_f1").all()
