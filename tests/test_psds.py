"""The threshold-free PSDS of detection tasks (issue 14, item 2): `psds_score` against a direct call
of sed_scores_eval on hand-made scores, its undefined cases, and its place in the final report."""

from __future__ import annotations

import json
import logging
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis.config import section
from analysis.mtl.detection import FrameGrid, frame_targets, make_detection_task
from analysis.mtl.sed_metrics import psds_score

intersection_based = pytest.importorskip("sed_scores_eval.intersection_based")
from sed_scores_eval.base_modules.scores import create_score_dataframe  # noqa: E402

# DCASE 2021-2023 task 4, scenario 1: what config `detection.psds` defaults to
SCENARIO_1 = {"dtc_threshold": 0.7, "gtc_threshold": 0.7, "cttc_threshold": None,
              "alpha_ct": 0.0, "alpha_st": 1.0, "max_efpr": 100.0}
CLASSES = ("cat", "dog")
HOP_S = 0.1
N_FRAMES = 100  # 10 s clips
N_CLIPS = 12


def _reference() -> list[list[tuple[float, float, str]]]:
    """One cat and one dog event per clip, at clip-dependent times."""
    return [[(1.0 + 0.1 * (i % 5), 3.0 + 0.1 * (i % 5), "cat"), (5.0, 6.5 + 0.1 * (i % 3), "dog")]
            for i in range(N_CLIPS)]


def _perfect(reference) -> np.ndarray:
    """Frame probabilities that are 1 exactly on the reference frames (as the targets)."""
    return frame_targets(reference, CLASSES, FrameGrid(HOP_S, N_FRAMES)).astype(np.float32)


def _library(frames: np.ndarray, reference, classes=CLASSES, parameters=None) -> float:
    """sed_scores_eval called directly, DCASE scenario 1, with its own score-frame builder."""
    timestamps = np.arange(frames.shape[1] + 1) * HOP_S
    scores = {}
    for clip, probabilities in enumerate(frames):
        table = create_score_dataframe(probabilities, timestamps, list(classes))
        scores[f"clip{clip}"] = table.astype({label: np.float32 for label in classes})
    truth = {f"clip{clip}": events for clip, events in enumerate(reference)}
    durations = dict.fromkeys(scores, float(timestamps[-1]))
    return float(intersection_based.psds(scores, truth, durations,
                                         **(parameters or SCENARIO_1))[0])


def test_the_default_parameters_are_dcase_scenario_1():
    assert section("detection")["psds"] == SCENARIO_1


def test_perfect_scores_give_psds_one_as_sed_scores_eval_does():
    reference = _reference()
    frames = _perfect(reference)
    ours = psds_score(frames, reference, CLASSES, HOP_S)
    assert ours == pytest.approx(_library(frames, reference)) and ours == pytest.approx(1.0)


def test_random_scores_give_a_low_psds_equal_to_sed_scores_eval():
    reference = _reference()
    frames = np.random.default_rng(0).random((N_CLIPS, N_FRAMES, 2)).astype(np.float32)
    ours = psds_score(frames, reference, CLASSES, HOP_S)
    assert ours == pytest.approx(_library(frames, reference))
    assert ours < 0.1


def test_a_planted_shift_lowers_psds_and_equals_sed_scores_eval():
    reference = _reference()
    perfect = _perfect(reference)
    shifted = perfect.copy()
    # half the clips: events 0.8 s late (of 1.5-2.2 s events: below the 0.7 tolerance criteria)
    # and scored 0.6, so the right half is found alone above 0.6 (true-positive rate 0.5 at no
    # false positive); from 0.6 down the late ones add 6 false positives per class in 2 minutes,
    # an eFPR of 180 per hour, beyond max_efpr 100: PSDS = 0.5
    shifted[::2] = 0.6 * np.roll(perfect[::2], 8, axis=1)
    ours = psds_score(shifted, reference, CLASSES, HOP_S)
    assert ours == pytest.approx(_library(shifted, reference)) and ours == pytest.approx(0.5)
    late = np.roll(perfect, 8, axis=1)  # every clip late: nothing found
    assert psds_score(late, reference, CLASSES, HOP_S) == pytest.approx(0.0)


def test_configured_tolerances_reach_sed_scores_eval():
    reference = _reference()
    late = np.roll(_perfect(reference), 8, axis=1)  # 0.8 s late: 47-64 % of each event overlaps
    loose = {**SCENARIO_1, "dtc_threshold": 0.3, "gtc_threshold": 0.3}
    ours = psds_score(late, reference, CLASSES, HOP_S, loose)
    assert ours == pytest.approx(_library(late, reference, parameters=loose))
    assert ours == pytest.approx(1.0)  # found under the loose criteria, 0 under scenario 1 (above)


def test_psds_depends_on_the_ranking_of_scores_only():
    reference = _reference()
    perfect = _perfect(reference)
    noise = np.random.default_rng(1).random(perfect.shape).astype(np.float32)
    separable = 0.5 * perfect + 0.5 * noise  # every event frame above every other: no threshold
    assert psds_score(separable, reference, CLASSES, HOP_S) == pytest.approx(1.0)  # is needed


def test_a_class_without_reference_events_is_left_out():
    reference = _reference()
    extra = [*CLASSES, "bird"]  # no clip has a bird
    frames = np.concatenate([_perfect(reference), np.full((N_CLIPS, N_FRAMES, 1), 0.9,
                                                          dtype=np.float32)], axis=2)
    with pytest.raises(AssertionError):  # what sed_scores_eval itself does with such a class
        _library(frames, reference, classes=tuple(extra))
    assert psds_score(frames, reference, tuple(extra), HOP_S) == pytest.approx(1.0)


def test_undefined_psds_is_nan_with_a_warning(caplog):
    frames = _perfect(_reference())
    with caplog.at_level(logging.WARNING):
        assert math.isnan(psds_score(frames, [[] for _ in range(N_CLIPS)], CLASSES, HOP_S))
        assert math.isnan(psds_score(frames[:0], [], CLASSES, HOP_S))
        broken = frames.copy()
        broken[0, 0, 0] = np.nan
        assert math.isnan(psds_score(broken, _reference(), CLASSES, HOP_S))
    assert caplog.text.count("PSDS undefined") == 3


def test_constant_scores_give_a_defined_psds():
    """A model that never raises a score: one operating point (everything active), no crash."""
    reference = _reference()
    for value in (0.0, 0.3):
        frames = np.full((N_CLIPS, N_FRAMES, 2), value, dtype=np.float32)
        assert psds_score(frames, reference, CLASSES, HOP_S) == pytest.approx(0.0)


def test_final_report_of_a_detection_task_has_psds():
    manifest = pd.DataFrame({"events": [json.dumps([[0.0, 0.2, "a"]]),
                                        json.dumps([[0.1, 0.3, "b"]]), "[]"]})
    task = make_detection_task("det", {"dataset": "d", "label": "events", "type": "detection"},
                               manifest, "m.parquet").with_grid(FrameGrid(0.05, 8))
    codes = np.array([0, 1, 2])
    truth = task.frame_truth(codes).astype(float)
    report = task.final_report(SimpleNamespace(codes=codes, probabilities=truth.reshape(3, -1)))
    assert {"segment_f1", "segment_er", "event_f1", "frame_f1", "psds"} <= set(report.scores)
    assert report.scores["psds"] == pytest.approx(1.0)
    late = np.roll(truth.reshape(3, 8, -1), 1, axis=1).reshape(3, -1)  # 0.05 s late of 0.2 s
    strict = {"detection": {"psds": {"dtc_threshold": 0.9, "gtc_threshold": 0.9}}}
    for spec, expected in (({}, 1.0), (strict, 0.0)):
        configured = make_detection_task("det", {"dataset": "d", "label": "events",
                                                 "type": "detection", **spec},
                                         manifest, "m.parquet").with_grid(FrameGrid(0.05, 8))
        outputs = SimpleNamespace(codes=codes, probabilities=late)
        assert configured.final_report(outputs).scores["psds"] == pytest.approx(expected)


def test_psds_can_be_the_gain_metric():
    assert section("detection", {"gain_metric": "psds"})["gain_metric"] == "psds"


def test_connected_reference_events_of_a_class_count_as_their_union():
    """Annotations may overlap or touch within a class; sed_scores_eval refuses that, so psds
    scores their union, which is also what the frame targets mark."""
    reference = _reference()
    split = [[(a, (a + b) / 2 + 0.3, c), ((a + b) / 2, b, c)] if c == "cat" else [(a, b, c)]
             for clip in reference for a, b, c in clip]
    overlapping = [split[2 * i] + split[2 * i + 1] for i in range(N_CLIPS)]  # cat: two overlapping
    frames = np.random.default_rng(3).random((N_CLIPS, N_FRAMES, 2)).astype(np.float32)
    with pytest.raises(AssertionError, match="Connected/overlapping"):
        _library(frames, overlapping)
    assert psds_score(frames, overlapping, CLASSES, HOP_S) == pytest.approx(
        psds_score(frames, reference, CLASSES, HOP_S))


def test_reference_events_past_the_scored_frames_are_cut_to_them():
    """A clip longer than its feature rows (preparation fixed) is scored on the frames the model
    saw: an event running past them counts up to their end, one starting after them not at all."""
    manifest = pd.DataFrame({"events": [json.dumps([[0.3, 0.6, "a"], [0.5, 0.7, "b"]]),
                                        json.dumps([[0.0, 0.1, "b"]])]})
    task = make_detection_task("det", {"dataset": "d", "label": "events", "type": "detection"},
                               manifest, "m.parquet").with_grid(FrameGrid(0.05, 8))  # 0.4 s
    codes = np.array([0, 1])
    truth = task.frame_truth(codes).astype(float)
    report = task.final_report(SimpleNamespace(codes=codes, probabilities=truth.reshape(2, -1)))
    assert report.scores["psds"] == pytest.approx(1.0)
    assert report.scores["segment_f1"] == pytest.approx(1.0)
    assert report.scores["event_f1"] == pytest.approx(1.0)
