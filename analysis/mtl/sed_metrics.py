"""Scores of detection tasks: frame scores per epoch, post-processing to events, sed_eval metrics,
and the threshold-free PSDS.

- Every epoch (`frame_scores`): `accuracy` (share of (frame, class) decisions right) and
  `macro_f1` (frame-level F1 per class, averaged), at the configured threshold.
- Final (`detection_report`), after post-processing (threshold, then a median filter of
  `median_frames` over time, then runs of active frames -> events): the metrics of Mesaros et al.
  (2016) computed by the field's library `sed_eval`: `segment_f1` and `segment_er` (segment-based,
  micro over classes, `segment_s` segments; ER = (S + D + I) / N), `event_f1` (event-based, onset
  collar `collar_s`, offset within max(collar, 50 % of the event length)), plus `frame_f1`. For
  `segment_er` lower is better. An F1 that sed_eval leaves NaN because nothing was detected is 0.
- Final, without post-processing: `psds` (`psds_score`), the Polyphonic Sound Detection Score of
  Bilen et al. (2020, "A framework for the robust evaluation of sound event detection"), computed
  exactly from the frame probabilities by `sed_scores_eval` (Ebbers, Serizel and Haeb-Umbach 2022,
  "Threshold-independent evaluation of sound event detection scores"): the normalised area under
  the PSD-ROC over every decision threshold, so it does not depend on `threshold` or
  `median_frames`. Higher is better (0 to 1). Parameters: config `detection.psds`, by default
  DCASE scenario 1 (detection tolerance 0.7, ground-truth intersection 0.7, no cross-trigger
  criterion, alpha_ct 0, alpha_st 1, max eFPR 100 per hour). Each test clip is scored over its frame grid
  (n_frames * hop seconds; frame i covers [i * hop, (i + 1) * hop)). Only the event classes with a
  reference event in the clip set enter the score: a class without one has no true-positive rate
  (sed_scores_eval refuses it), and counting it as 0 would punish every model alike by the share
  of such classes in the fold (single and pair models of a fold see the same classes, so gains
  stay comparable). No class with a reference event, no clip, or a non-finite probability (scores
  that cannot be ranked): `psds` is NaN, with a warning. A model that never raises a score (all
  probabilities equal) gets a defined PSDS, usually 0, as an F1 of nothing detected is 0.
- Every final score compares with the reference events cut to the scored frames
  (n_frames * hop seconds, `_within`): a clip longer than its feature rows is scored on what the
  model saw, as its frame targets are. For `psds` overlapping or touching events of a class are
  merged (`_merged`): sed_scores_eval refuses them, and the frame targets mark their union.
- `segment_scores` is the project's own segment-based F1 / ER (tests check it against sed_eval).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.ndimage import median_filter

from analysis.config import section
from analysis.mtl.metrics import TaskReport

logger = logging.getLogger(__name__)
Event = tuple[float, float, str]


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros(len(tp)), where=denominator > 0)


def frame_scores(task: Any, codes: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Frame-level accuracy and macro-F1 over classes, at the threshold."""
    truth = task.frame_truth(codes).astype(bool)
    guess = task.frame_probabilities(probabilities) > task.settings["threshold"]
    tp = (truth & guess).sum(axis=(0, 1)).astype(float)
    fp = (~truth & guess).sum(axis=(0, 1)).astype(float)
    fn = (truth & ~guess).sum(axis=(0, 1)).astype(float)
    return {"accuracy": float((truth == guess).mean()), "macro_f1": float(_f1(tp, fp, fn).mean())}


def activity_to_events(active: np.ndarray, hop_s: float, classes: tuple[str, ...]) -> list[Event]:
    """(n_frames, n_classes) 0/1 -> [(onset, offset, label)]: one event per run of 1s."""
    events = []
    for column, label in enumerate(classes):
        padded = np.concatenate([[0], active[:, column].astype(np.int8), [0]])
        changes = np.flatnonzero(np.diff(padded))
        for start, stop in zip(changes[::2], changes[1::2]):
            events.append((round(start * hop_s, 6), round(stop * hop_s, 6), label))
    return sorted(events)


def postprocess(probabilities: np.ndarray, threshold: float, median_frames: int, hop_s: float,
                classes: tuple[str, ...]) -> list[Event]:
    """Threshold (n_frames, n_classes) probabilities, median-filter over time, read off events."""
    active = (probabilities > threshold).astype(np.uint8)
    if median_frames > 1:
        active = median_filter(active, size=(median_frames, 1), mode="nearest")
    return activity_to_events(active, hop_s, classes)


def _segment_activity(events: list[Event], classes: tuple[str, ...], n_segments: int,
                      segment_s: float) -> np.ndarray:
    out = np.zeros((n_segments, len(classes)), dtype=bool)
    index = {label: i for i, label in enumerate(classes)}
    for onset, offset, label in events:
        first = int(math.floor(onset / segment_s))
        last = int(math.ceil(offset / segment_s))
        out[first:min(last, n_segments), index[label]] = True
    return out


def segment_scores(reference: list[list[Event]], estimated: list[list[Event]],
                   classes: tuple[str, ...], segment_s: float, length_s: float) -> dict[str, float]:
    """Segment-based micro F1 and error rate over clips (Mesaros et al. 2016)."""
    tp = fp = fn = substitutions = deletions = insertions = n_ref = 0
    n_segments = int(math.ceil(length_s / segment_s))
    for ref, est in zip(reference, estimated):
        truth = _segment_activity(ref, classes, n_segments, segment_s)
        guess = _segment_activity(est, classes, n_segments, segment_s)
        seg_fn = (truth & ~guess).sum(axis=1)
        seg_fp = (~truth & guess).sum(axis=1)
        tp += int((truth & guess).sum())
        fp, fn = fp + int(seg_fp.sum()), fn + int(seg_fn.sum())
        substitutions += int(np.minimum(seg_fn, seg_fp).sum())
        deletions += int(np.maximum(0, seg_fn - seg_fp).sum())
        insertions += int(np.maximum(0, seg_fp - seg_fn).sum())
        n_ref += int(truth.sum())
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    er = (substitutions + deletions + insertions) / n_ref if n_ref else float(insertions > 0)
    return {"segment_f1": float(f1), "segment_er": float(er)}


def sed_eval_scores(reference: list[list[Event]], estimated: list[list[Event]],
                    classes: tuple[str, ...], segment_s: float, collar_s: float) -> dict[str, Any]:
    """Segment F1 / ER and event F1 from sed_eval, and its per-class segment results."""
    import sed_eval  # imported here: heavy, and needed only at the end of a run

    segments = sed_eval.sound_event.SegmentBasedMetrics(list(classes), time_resolution=segment_s)
    events = sed_eval.sound_event.EventBasedMetrics(
        list(classes), t_collar=collar_s, percentage_of_length=0.5)
    for clip, (ref, est) in enumerate(zip(reference, estimated)):
        ref_list = _event_list(ref, clip)
        est_list = _event_list(est, clip)
        segments.evaluate(reference_event_list=ref_list, estimated_event_list=est_list)
        events.evaluate(reference_event_list=ref_list, estimated_event_list=est_list)
    overall = segments.results_overall_metrics()
    return {
        "segment_f1": _defined_f1(overall["f_measure"]["f_measure"], segments.overall),
        "segment_er": float(overall["error_rate"]["error_rate"]),
        "event_f1": _defined_f1(events.results_overall_metrics()["f_measure"]["f_measure"],
                                events.overall),
        "per_class": segments.results_class_wise_metrics(),
    }


def _defined_f1(value: float, counts: dict[str, float]) -> float:
    """sed_eval's F1 is NaN when nothing is detected (precision 0 / 0); with reference events the
    recall is 0, so the F1 is 0. NaN stays only when there is neither a reference nor an estimate."""
    if math.isfinite(value):
        return float(value)
    return 0.0 if counts["Nref"] > 0 or counts["Nsys"] > 0 else float("nan")


def _event_list(events: list[Event], clip: int) -> Any:
    import dcase_util

    rows = [{"filename": f"clip{clip}", "onset": a, "offset": b, "event_label": label}
            for a, b, label in events]
    if not rows:  # sed_eval needs the file to be known even without events
        return dcase_util.containers.MetaDataContainer([{"filename": f"clip{clip}"}])
    return dcase_util.containers.MetaDataContainer(rows)


def _within(events: Iterable[Event], length_s: float) -> list[Event]:
    """Reference events cut to the scored part of a clip, [0, length_s): a clip longer than its
    feature rows (`preparation: fixed`) is scored on what the model saw, as its frame targets are."""
    return [(onset, min(offset, length_s), label) for onset, offset, label in events
            if onset < length_s]


def _merged(events: list[Event]) -> list[Event]:
    """Overlapping or touching events of one class as one (their union, as the frame targets see
    them): sed_scores_eval refuses connected reference events, which annotations can hold."""
    merged: list[Event] = []
    for onset, offset, label in sorted(events, key=lambda event: (event[2], event[0])):
        if merged and merged[-1][2] == label and onset <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], offset), label)
        else:
            merged.append((onset, offset, label))
    return merged


def psds_score(frames: np.ndarray, reference: list[list[Event]], classes: tuple[str, ...],
               hop_s: float, parameters: Mapping[str, Any] | None = None) -> float:
    """PSDS (module docstring) of (n_clips, n_frames, n_classes) frame probabilities against each
    clip's reference events; `parameters` are sed_scores_eval's (config `detection.psds`), by
    default the schema's: DCASE scenario 1."""
    frames = np.asarray(frames)
    scored = sorted({label for clip in reference for _, _, label in clip} & set(classes))
    if len(frames) == 0 or not scored:
        logger.warning("PSDS undefined: %s", "no test clip" if len(frames) == 0
                       else "no reference event of any class in the test clips")
        return float("nan")
    if not np.isfinite(frames).all():
        logger.warning("PSDS undefined: non-finite frame probabilities")
        return float("nan")
    from sed_scores_eval import intersection_based  # imported here: needed only at the end

    columns = [classes.index(label) for label in scored]
    timestamps = np.arange(frames.shape[1] + 1) * hop_s
    scores, truth = {}, {}
    for clip, (probabilities, events) in enumerate(zip(frames, reference)):
        table = pd.DataFrame({"onset": timestamps[:-1], "offset": timestamps[1:]})
        for label, column in zip(scored, columns):
            # float32 (what the model gave): sed_scores_eval's Cython code needs a writable float64
            # array, and with pandas 3 a float64 frame hands it a read-only view; a float32 column
            # is converted, hence copied
            table[label] = probabilities[:, column].astype(np.float32)
        scores[f"clip{clip}"] = table
        truth[f"clip{clip}"] = _merged([event for event in events if event[2] in scored])
    durations = dict.fromkeys(scores, float(timestamps[-1]))
    if parameters is None:
        parameters = section("detection")["psds"]
    value, per_class, *_ = intersection_based.psds(scores, truth, durations, **parameters)
    logger.debug("PSDS %.4f; per class %s", value, per_class)
    return float(value)


def detection_report(task: Any, codes: np.ndarray, probabilities: np.ndarray) -> TaskReport:
    """Final scores of a detection task's test part (module docstring) and per-class rows."""
    settings = task.settings
    frames = task.frame_probabilities(probabilities)
    estimated = [postprocess(clip, settings["threshold"], settings["median_frames"],
                             task.grid.hop_s, task.classes) for clip in frames]
    length_s = task.grid.n_frames * task.grid.hop_s
    reference = [_within(task.clip_events[code], length_s) for code in np.asarray(codes)]
    lib = sed_eval_scores(reference, estimated, task.classes, settings["segment_s"],
                          settings["collar_s"])
    quick = frame_scores(task, codes, probabilities)
    scores = {**quick, "frame_f1": quick["macro_f1"], "segment_f1": lib["segment_f1"],
              "segment_er": lib["segment_er"], "event_f1": lib["event_f1"],
              "psds": psds_score(frames, reference, task.classes, task.grid.hop_s,
                                 settings["psds"])}
    report = TaskReport({k: (v if math.isfinite(v) else float("nan")) for k, v in scores.items()})
    for label in task.classes:
        values = lib["per_class"].get(label, {})
        measure = values.get("f_measure", {})
        report.per_class.append((label, float(measure.get("precision", math.nan)),
                                 float(measure.get("recall", math.nan)),
                                 float(measure.get("f_measure", math.nan)),
                                 int(values.get("count", {}).get("Nref", 0))))
    return report
