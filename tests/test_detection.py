"""Detection tasks (issue 14 part 2): frame targets, post-processing, metrics, signed gains,
activity columns, the demo event corpus and the frame-wise model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from analysis.config import section
from analysis.corpora.demo import generate_demo_corpus
from analysis.corpora.demo_events import CLIP_S, planted_events
from analysis.corpora.events import activity_class, derive_activity, read_event_table
from analysis.mtl.detection import FrameGrid, frame_targets, make_detection_task
from analysis.mtl.frame_heads import FrameOutputs, build_frame_dnn, stack_context
from analysis.mtl.models import build_model
from analysis.mtl.sed_metrics import postprocess, sed_eval_scores, segment_scores
from analysis.mtl.seeding import RunSeeds
from analysis.stats.detection_gains import study_gains

pytest.importorskip("sed_eval")


def test_frame_targets_mark_the_frames_whose_middle_is_inside_the_event():
    grid = FrameGrid(hop_s=0.1, n_frames=10)  # frame i covers [0.1 i, 0.1 (i + 1)), middle +0.05
    events = [[(0.2, 0.5, "dog"), (0.0, 0.12, "cat")], []]
    frames = frame_targets(events, ("cat", "dog"), grid)
    assert frames.shape == (2, 10, 2)
    assert np.flatnonzero(frames[0, :, 1]).tolist() == [2, 3, 4]
    assert np.flatnonzero(frames[0, :, 0]).tolist() == [0]  # middles 0.05, 0.15: 0.15 >= 0.12
    assert frames[1].sum() == 0


def test_frame_targets_first_frame_only_for_a_short_event():
    frames = frame_targets([[(0.0, 0.12, "cat")]], ("cat",), FrameGrid(0.1, 4))
    assert frames[0, :, 0].tolist() == [1, 0, 0, 0]


def test_postprocess_thresholds_median_filters_and_reads_events():
    probabilities = np.zeros((12, 2))
    probabilities[2:7, 0] = 0.9  # a 5-frame event
    probabilities[4, 0] = 0.1  # a one-frame hole the median filter closes
    probabilities[9, 1] = 0.8  # a one-frame blip the median filter removes
    events = postprocess(probabilities, 0.5, 3, 0.1, ("a", "b"))
    assert events == [(0.2, 0.7, "a")]
    raw = postprocess(probabilities, 0.5, 1, 0.1, ("a", "b"))
    assert raw == [(0.2, 0.4, "a"), (0.5, 0.7, "a"), (0.9, 1.0, "b")]


REFERENCE = [
    [(0.0, 1.5, "dog"), (2.2, 3.0, "cat")],
    [(0.5, 2.5, "cat")],
    [],
]
ESTIMATED = [
    [(0.1, 1.4, "dog"), (2.0, 2.9, "dog")],
    [(0.6, 1.2, "cat"), (3.1, 3.6, "dog")],
    [(1.0, 1.5, "cat")],
]


def test_segment_f1_and_error_rate_equal_sed_eval_on_a_hand_case():
    classes = ("cat", "dog")
    ours = segment_scores(REFERENCE, ESTIMATED, classes, segment_s=1.0, length_s=4.0)
    library = sed_eval_scores(REFERENCE, ESTIMATED, classes, segment_s=1.0, collar_s=0.2)
    assert ours["segment_f1"] == pytest.approx(library["segment_f1"])
    assert ours["segment_er"] == pytest.approx(library["segment_er"])
    # by hand: reference segments: clip0 dog{0,1} cat{2}; clip1 cat{0,1,2}: N = 6. Estimated: clip0
    # dog{0,1,2}; clip1 cat{0,1} dog{3}; clip2 cat{1}. TP 4, FP 3, FN 2 -> F1 = 8 / 13.
    assert ours["segment_f1"] == pytest.approx(8 / 13)
    # per segment S = min(FN, FP), D, I: clip0 seg2 S1; clip1 seg2 D1, seg3 I1; clip2 seg1 I1 -> 4/6
    assert ours["segment_er"] == pytest.approx(4 / 6)


def test_event_f1_counts_onset_collar_matches():
    classes = ("cat", "dog")
    exact = sed_eval_scores(REFERENCE, REFERENCE, classes, segment_s=1.0, collar_s=0.2)
    assert exact["event_f1"] == pytest.approx(1.0) and exact["segment_er"] == 0.0
    scores = sed_eval_scores(REFERENCE, ESTIMATED, classes, segment_s=1.0, collar_s=0.2)
    # only clip0's dog (onset 0.1 within 0.2, offset 1.4 within 0.75) matches: 1 TP of 3 ref, 5 est
    assert scores["event_f1"] == pytest.approx(2 * 1 / (3 + 5))


def test_nothing_detected_gives_f1_zero_not_nan():
    scores = sed_eval_scores(REFERENCE, [[], [], []], ("cat", "dog"), 1.0, 0.2)
    assert scores["segment_f1"] == 0.0 and scores["event_f1"] == 0.0


def _runs(values: dict[tuple[str, str], float], metric: str) -> pd.DataFrame:
    rows = [{"task": task, "partner": partner, "fold": 0, "seed": 0, "metric": metric, "value": v}
            for (task, partner), v in values.items()]
    return pd.DataFrame(rows)


def test_error_rate_gain_is_single_minus_pair():
    runs = pd.concat([
        _runs({("det", ""): 0.6, ("det", "aux"): 0.4}, "segment_er"),
        _runs({("aux", ""): 0.7, ("aux", "det"): 0.8}, "macro_f1"),
    ])
    gains = study_gains(runs, "macro_f1", ["det"], "segment_er").set_index("main")
    assert gains.loc["det", "gain"] == pytest.approx(0.2)  # ER fell 0.6 -> 0.4: a positive gain
    assert gains.loc["det", "relative_gain"] == pytest.approx(0.2 / 0.6)
    assert bool(gains.loc["det", "lower_is_better"]) and gains.loc["det", "metric"] == "segment_er"
    assert gains.loc["aux", "gain"] == pytest.approx(0.1) and gains.loc["aux", "metric"] == "macro_f1"


def test_study_without_detection_gets_the_classification_gains_table():
    runs = _runs({("a", ""): 0.5, ("a", "b"): 0.6, ("b", ""): 0.5, ("b", "a"): 0.4}, "macro_f1")
    gains = study_gains(runs, "macro_f1", [], "segment_f1")
    assert "metric" not in gains.columns and gains["gain"].round(6).tolist() == [0.1, -0.1]


def test_activity_class_is_the_longest_class_present():
    classes = {"speech": ["speech"], "music": ["piano", "guitar"]}
    assert activity_class([(0, 1, "speech"), (0, 2, "piano")], classes, "neither") == "music"
    assert activity_class([(0, 1, "dog")], classes, "neither") == "neither"
    assert activity_class([(0, 1, "dog")], {"event": ["*"]}, "none") == "event"


def test_derive_activity_adds_columns_from_events():
    clips = pd.DataFrame({"events": [json.dumps([[0.1, 0.5, "speech"]]), "[]"]})
    out = derive_activity(clips, "d", {"voice": {"classes": {"voice": ["speech"]},
                                                 "default": "no_voice"}})
    assert out["voice"].tolist() == ["voice", "no_voice"]


def test_demo_event_corpus_plants_events_at_their_times(tmp_path):
    generate_demo_corpus("events", tmp_path, 6, seed=4, sample_rate=16000, progress=False)
    table = read_event_table(tmp_path / "events.tsv")
    planted = planted_events(6, seed=4)
    assert len(table) == sum(len(clip) for clip in planted) > 0
    for clip, events in enumerate(planted):
        audio, rate = sf.read(tmp_path / f"audio/{clip:05d}.wav")
        assert len(audio) == round(CLIP_S * rate)
        rows = table[table["filename"] == f"audio/{clip:05d}.wav"]
        assert sorted(zip(rows["onset"], rows["offset"], rows["event_label"])) == \
            sorted((e.onset, e.offset, e.label) for e in events)
        inside = np.zeros(len(audio), dtype=bool)
        for event in events:
            inside[round(event.onset * rate):round(event.offset * rate)] = True
        if inside.any():  # the planted events are far louder than the background
            assert np.sqrt(np.mean(audio[inside] ** 2)) > 2 * np.sqrt(np.mean(audio[~inside] ** 2))


def _detection_task():
    manifest = pd.DataFrame({"events": [json.dumps([[0.0, 0.2, "a"]]), json.dumps([[0.1, 0.3, "b"]]),
                                        "[]"]})
    task = make_detection_task("det", {"dataset": "d", "label": "events", "type": "detection"},
                               manifest, "m.parquet")
    return task.with_grid(FrameGrid(0.05, 8))


def test_detection_task_codes_point_at_frame_targets_and_loss_is_finite():
    task = _detection_task()
    assert task.classes == ("a", "b") and task.n_outputs == 16
    assert isinstance(task.n_outputs, FrameOutputs) and task.n_outputs.per_frame == 2
    codes = task.targets(pd.DataFrame({"events": ["[]"] * 3}))
    assert codes.tolist() == [0, 1, 2]
    assert task.frame_truth(np.array([1]))[0, :, 1].tolist() == [0, 0, 1, 1, 1, 1, 0, 0]
    loss = task.loss(torch.zeros(3, 16), torch.tensor([0, 1, 2]))
    assert loss is not None and torch.isfinite(loss)
    assert task.settings == section("detection")


def test_frame_dnn_gives_per_frame_outputs_and_clip_outputs():
    task = _detection_task()
    settings = {"type": "frame_dnn", "hidden": [16], "dropout": 0.0}
    model = build_model(settings, (8, 5), {"det": task.n_outputs, "clip": 3}, RunSeeds(0, 0))
    outputs = model(torch.randn(4, 8, 5))
    assert outputs["det"].shape == (4, 16) and outputs["clip"].shape == (4, 3)
    x = torch.arange(6.0).reshape(1, 3, 2)
    stacked = stack_context(x, 1)
    assert stacked.shape == (1, 3, 6)
    assert stacked[0, 0].tolist() == [0, 0, 2, 1, 1, 3]  # per band: frames -1 (edge), 0, 1
    assert build_frame_dnn is not None


def test_desed_preset_reads_strong_labels_and_activity(tmp_path):
    from analysis.corpora.readers import index_dataset

    audio = tmp_path / "desed" / "audio" / "validation"
    audio.mkdir(parents=True)
    table = "filename\tonset\toffset\tevent_label\n"
    for i in range(6):
        sf.write(audio / f"y{i}.wav", np.random.default_rng(i).normal(0, 0.1, 8000), 16000)
        table += f"y{i}.wav\t0.1\t0.4\t{'Speech' if i % 2 else 'Dog'}\n" if i < 4 else f"y{i}.wav\t\t\t\n"
    (tmp_path / "desed" / "metadata" / "validation").mkdir(parents=True)
    (tmp_path / "desed" / "metadata" / "validation" / "validation.tsv").write_text(table)
    out = tmp_path / "out" / "manifest.parquet"
    tasks = {"sed": {"label": "events", "type": "detection"}, "speech": "speech_activity"}
    index_dataset("d", "desed", str(tmp_path / "desed"), tasks, 2, str(out), {},
                  str(tmp_path / "out" / "skipped.csv"))
    manifest = pd.read_parquet(out).set_index("clip_id")
    assert json.loads(manifest.loc["audio/validation/y1.wav", "events"]) == [[0.1, 0.4, "Speech"]]
    assert manifest.loc["audio/validation/y4.wav", "events"] == "[]"
    assert manifest["speech_activity"].value_counts().to_dict() == {"no_speech": 4, "speech": 2}


def test_detection_scores_table_has_one_row_per_model_of_a_detection_task():
    from analysis.stats.detection_gains import detection_scores

    runs = pd.concat([_runs({("det", ""): 0.6, ("det", "aux"): 0.4}, "segment_er"),
                      _runs({("det", ""): 0.5, ("det", "aux"): 0.7}, "segment_f1"),
                      _runs({("aux", ""): 0.7}, "macro_f1")])
    table = detection_scores(runs, ["det"]).set_index("partner")
    assert table.loc["aux", "segment_er"] == 0.4 and table.loc["", "segment_f1"] == 0.5
    assert list(table.columns) == ["task", "segment_f1", "segment_er", "event_f1", "frame_f1",
                                   "psds"]


def test_layer_variances_per_task_and_shared_layer():
    from analysis.mtl.variances import layer_variances

    settings = {"type": "dnn", "hidden": [8, 4], "dropout": 0.5}
    model = build_model(settings, (6,), {"a": 2, "b": 3}, RunSeeds(0, 0))
    generator = torch.Generator().manual_seed(0)
    inputs = {"a": torch.randn(20, 6, generator=generator),
              "b": torch.zeros(5, 6)}  # identical rows: no spread
    table = layer_variances(model, inputs)
    assert len(table) == 4 and set(table["task"]) == {"a", "b"}
    assert (table.loc[table["task"] == "a", "variance"] > 0).all()
    assert (table.loc[table["task"] == "b", "variance"] == 0).all()
    assert model.training  # the model's mode is restored


def test_layer_variances_over_batches_equal_those_of_all_rows_at_once():
    from analysis.mtl.variances import layer_variances

    settings = {"type": "cnn", "channels": [4, 6], "dropout": 0.0}
    model = build_model(settings, (8, 12), {"a": 2}, RunSeeds(0, 0))
    x = torch.randn(23, 8, 12, generator=torch.Generator().manual_seed(1)) + 5.0
    whole = layer_variances(model, {"a": x})
    batched = layer_variances(model, {"a": iter(x.split(5))})
    assert whole["layer"].tolist() == ["blocks.0", "blocks.1"]  # one row per conv block
    assert batched["variance"].tolist() == pytest.approx(whole["variance"].tolist(), rel=1e-9)
    captured = {}
    hook = model.trunk.blocks[1].register_forward_hook(lambda _m, _i, out: captured.update(out=out))
    model.eval()
    with torch.no_grad():
        model(x)
    hook.remove()
    direct = captured["out"].reshape(23, -1).double().var(dim=0, unbiased=False).mean()
    assert whole["variance"].iloc[1] == pytest.approx(float(direct), rel=1e-9)


def test_frame_outputs_survive_pickling():
    import pickle

    size = pickle.loads(pickle.dumps(FrameOutputs(8, 3)))
    assert size == 24 and isinstance(size, FrameOutputs) and (size.n_frames, size.per_frame) == (8, 3)
