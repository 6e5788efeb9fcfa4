"""Tests of the training engine (analysis.mtl) on tiny synthetic datasets with learnable labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import analysis.mtl.train as train_module
from analysis.errors import StudyInputError
from analysis.io import write_array, write_table
from analysis.mtl.metrics import classification_scores, quick_scores
from analysis.mtl.models import build_model
from analysis.mtl.seeding import RunSeeds
from analysis.mtl.train import EpochEnd, train_study_model

N_FEATURES = 8
N_FOLDS = 3
MODEL = {"type": "dnn", "hidden": [16, 16, 16], "dropout": 0.1}
TRAINING = {
    "epochs": 4,
    "batch_size": 16,
    "learning_rate": 0.01,
    "optimizer": "adam",
    "weight_decay": 0.0,
    "seeds": [0],
}
TABLES = ("metrics", "curve", "history", "variances")


def make_dataset(root: Path, name: str, n_clips: int, labels: dict[str, int], seed: int) -> Path:
    """Manifest, features and splits of a dataset whose labels shift the feature means."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n_clips, N_FEATURES)).astype(np.float32)
    manifest = pd.DataFrame({"clip_id": [f"{name}/clip{i:03d}.wav" for i in range(n_clips)]})
    for offset, (column, n_classes) in enumerate(labels.items()):
        classes = rng.integers(0, n_classes, size=n_clips)
        features[:, 2 * offset] += 3.0 * classes  # learnable from two feature columns
        features[:, 2 * offset + 1] -= 2.0 * classes
        manifest[column] = [f"{column}_{c}" for c in classes]
    return write_model_inputs(root, name, manifest, features)


def write_model_inputs(root: Path, name: str, manifest: pd.DataFrame, features: np.ndarray) -> Path:
    """Manifest, features and round-robin folds of a dataset, where train_study_model reads them."""
    manifest = manifest.assign(path="/x", duration_s=1.0, sample_rate=16000, channels=1)
    paths = dataset_paths(root, name)
    write_table(manifest, paths["manifest"])
    write_array(features, paths["features"])
    folds = np.arange(len(manifest)) % N_FOLDS
    write_table(pd.DataFrame({"clip_id": manifest["clip_id"], "fold": folds}), paths["splits"])
    return root


def dataset_paths(root: Path, name: str) -> dict[str, Path]:
    return {
        "manifest": root / "datasets" / name / "manifest.parquet",
        "features": root / "features" / f"{name}.npy",
        "splits": root / "splits" / f"{name}.parquet",
    }


TASKS = {
    "alpha_word": {"dataset": "alpha", "label": "word"},
    "alpha_speaker": {"dataset": "alpha", "label": "speaker"},
    "beta_scene": {"dataset": "beta", "label": "scene"},
}



def train(root: Path, task_names: list[str] | dict[str, dict], out: Path, **kwargs) -> Path:
    """Train on the tasks named (from TASKS) or given as {task: spec}."""
    if isinstance(task_names, dict):
        tasks = task_names
    else:
        tasks = {name: TASKS[name] for name in task_names}
    datasets = {spec["dataset"] for spec in tasks.values()}
    paths = {d: dataset_paths(root, d) for d in datasets}
    # every epoch checkpointed, so an interruption after epoch e resumes after epoch e
    arguments = dict(
        model=MODEL, training=TRAINING, progress=False, checkpoints={"every_epochs": 1}
    )
    arguments.update(kwargs)
    train_study_model(
        tasks=tasks,
        manifests={d: str(p["manifest"]) for d, p in paths.items()},
        features={d: str(p["features"]) for d, p in paths.items()},
        splits={d: str(p["splits"]) for d, p in paths.items()},
        out_dir=str(out),
        **arguments,
    )
    return out


def read_outputs(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}


def assert_same_outputs(left: Path, right: Path) -> None:
    for name, table in read_outputs(left).items():
        pd.testing.assert_frame_equal(table, pd.read_parquet(right / f"{name}.parquet"), obj=name)


def test_single_task_outputs(study: Path, tmp_path: Path) -> None:
    out = train(study, ["alpha_word"], tmp_path / "single")
    tables = read_outputs(out)
    assert list(tables["metrics"].columns) == ["task", "fold", "seed", "metric", "value"]
    assert list(tables["curve"].columns) == ["task", "fold", "seed", "step", "loss"]
    assert list(tables["history"].columns) == ["task", "fold", "seed", "epoch", "metric", "value"]
    assert len(tables["metrics"]) == N_FOLDS * 6
    assert len(tables["history"]) == N_FOLDS * TRAINING["epochs"] * 2
    steps_per_epoch = int(np.ceil(40 / TRAINING["batch_size"]))  # 40 training clips per fold
    assert len(tables["curve"]) == N_FOLDS * TRAINING["epochs"] * steps_per_epoch
    assert set(tables["metrics"]["metric"]) == {
        "accuracy", "macro_f1", "roc_auc", "updates", "rows_per_update", "scored_epoch"}
    budget = tables["metrics"].pivot(index="fold", columns="metric", values="value")
    assert (budget["updates"] == TRAINING["epochs"] * steps_per_epoch).all()
    assert budget["rows_per_update"].tolist() == pytest.approx([40 / steps_per_epoch] * N_FOLDS)
    assert (budget["scored_epoch"] == TRAINING["epochs"]).all()
    efficiency = json.loads((out / "efficiency.json").read_text())
    expected_parameters = (8 * 16 + 16) + 2 * (16 * 16 + 16) + (16 * 3 + 3)
    assert efficiency["n_parameters"] == expected_parameters
    assert efficiency["flops_per_clip"] == 8 * 16 + 2 * 16 * 16 + 16 * 3
    assert "vs_two_singles" not in efficiency
    assert efficiency["n_train_clips"] == {"alpha_word": 40}
    variances = tables["variances"]  # one row per fold, seed and hidden layer's ReLU
    assert list(variances.columns) == ["task", "fold", "seed", "layer", "variance"]
    assert len(variances) == N_FOLDS * len(TRAINING["seeds"]) * len(MODEL["hidden"])
    assert (variances["variance"] > 0).all()



def test_learning_happens(study: Path, tmp_path: Path) -> None:
    training = dict(TRAINING, epochs=15)
    tables = read_outputs(train(study, ["alpha_word"], tmp_path / "m", training=training))
    accuracy = tables["metrics"].query("metric == 'accuracy'")["value"].mean()
    assert accuracy > 0.75  # chance is 1/3
    curve = tables["curve"].query("fold == 0")
    assert curve["loss"].tail(5).mean() < curve["loss"].head(5).mean()


def test_forward_returns_logits_per_task() -> None:
    model = build_model(MODEL, N_FEATURES, {"b": 4, "a": 3}, RunSeeds(seed=0, fold=0))
    logits = model(torch.zeros(5, N_FEATURES))
    assert set(logits) == {"a", "b"}
    assert logits["a"].shape == (5, 3) and logits["b"].shape == (5, 4)


def test_unknown_model_type_is_an_error(study: Path, tmp_path: Path) -> None:
    with pytest.raises(StudyInputError, match="model.type: 'rnn'"):
        train(study, ["alpha_word"], tmp_path / "m", model={"type": "rnn"})


def test_single_and_pair_share_initial_trunk_and_main_head() -> None:
    seeds = RunSeeds(seed=3, fold=1)
    single = build_model(MODEL, N_FEATURES, {"main": 3}, seeds).state_dict()
    pair = build_model(MODEL, N_FEATURES, {"main": 3, "aux": 2}, seeds).state_dict()
    for key, value in single.items():
        assert torch.equal(value, pair[key]), key
    other_fold = build_model(MODEL, N_FEATURES, {"main": 3}, RunSeeds(seed=3, fold=2)).state_dict()
    assert not torch.equal(single["trunk.0.weight"], other_fold["trunk.0.weight"])
    assert not torch.equal(pair["heads.main.weight"][:2], pair["heads.aux.weight"])


def test_same_numbers_whatever_the_order_and_global_rng(study: Path, tmp_path: Path) -> None:
    first = train(study, ["alpha_word"], tmp_path / "a")
    torch.manual_seed(1234)
    torch.rand(17)  # global state must not matter
    train(study, ["alpha_word", "beta_scene"], tmp_path / "pair")
    second = train(study, ["alpha_word"], tmp_path / "b")
    assert_same_outputs(first, second)


def test_two_identical_runs_write_byte_identical_files(study: Path, tmp_path: Path) -> None:
    first = train(study, ["alpha_word", "beta_scene"], tmp_path / "a")
    second = train(study, ["alpha_word", "beta_scene"], tmp_path / "b")
    names = sorted(path.name for path in first.iterdir())
    assert "efficiency.json" in names and "metrics.parquet" in names
    assert names == sorted(path.name for path in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_pair_from_one_dataset(study: Path, tmp_path: Path) -> None:
    out = train(study, ["alpha_speaker", "alpha_word"], tmp_path / "pair")
    tables = read_outputs(out)
    assert set(tables["metrics"]["task"]) == {"alpha_speaker", "alpha_word"}
    counts = tables["curve"].groupby("task").size()
    assert counts["alpha_speaker"] == counts["alpha_word"]  # every clip carries both labels
    efficiency = json.loads((out / "efficiency.json").read_text())
    assert efficiency["n_train_clips"] == {"alpha_speaker": 40, "alpha_word": 40}


def test_pair_from_two_datasets(study: Path, tmp_path: Path) -> None:
    out = train(study, ["alpha_word", "beta_scene"], tmp_path / "pair")
    tables = read_outputs(out)
    efficiency = json.loads((out / "efficiency.json").read_text())
    assert efficiency["n_train_clips"] == {"alpha_word": 40, "beta_scene": 32}
    assert len(tables["metrics"]) == 2 * N_FOLDS * 6
    # budget batches: a model epoch is the larger task's 3 chunks; beta_scene's 2 are spread
    assert tables["curve"]["step"].max() == TRAINING["epochs"] * 3
    per_step = tables["curve"].query("fold == 0").groupby("step").size()
    assert (per_step == 2).sum() == TRAINING["epochs"] * 2
    again = train(study, ["alpha_word", "beta_scene"], tmp_path / "again")
    assert_same_outputs(out, again)


def test_mixed_pair_from_two_datasets(study: Path, tmp_path: Path) -> None:
    training = dict(TRAINING, batching="mixed")
    out = train(study, ["alpha_word", "beta_scene"], tmp_path / "pair", training=training)
    tables = read_outputs(out)
    steps = tables["curve"]["step"].max()
    assert steps == TRAINING["epochs"] * int(np.ceil(72 / TRAINING["batch_size"]))
    # mixed batches: nearly every step has a loss for both tasks
    per_step = tables["curve"].query("fold == 0").groupby("step").size()
    assert (per_step == 2).mean() > 0.9


def test_scaler_is_fit_on_the_training_part_only(study: Path, tmp_path: Path) -> None:
    root = tmp_path / "changed"
    make_dataset(root, "alpha", 60, {"word": 3, "speaker": 2}, seed=1)
    features_path = dataset_paths(root, "alpha")["features"]
    features = np.load(features_path)
    folds = pd.read_parquet(dataset_paths(root, "alpha")["splits"])["fold"].to_numpy()
    features[folds == 0] = features[folds == 0] * 5.0 + 7.0  # only the test clips of fold 0
    write_array(features, features_path)
    original = read_outputs(train(study, ["alpha_word"], tmp_path / "original"))
    changed = read_outputs(train(root, ["alpha_word"], tmp_path / "changed_out"))
    pd.testing.assert_frame_equal(
        original["curve"].query("fold == 0"), changed["curve"].query("fold == 0")
    )
    fold0 = "fold == 0 and metric == 'accuracy'"
    assert not original["history"].query(fold0).equals(changed["history"].query(fold0))


class Interrupt(Exception):
    pass


def interrupt_at(fold: int, epoch: int):
    def callback(end: EpochEnd) -> None:
        if (end.fold, end.epoch) == (fold, epoch):
            raise Interrupt

    return callback


def test_resume_gives_the_numbers_of_an_uninterrupted_run(study: Path, tmp_path: Path) -> None:
    tasks = ["alpha_word", "beta_scene"]
    reference = train(study, tasks, tmp_path / "reference")
    checkpoints = tmp_path / "checkpoints"
    out = tmp_path / "resumed"
    with pytest.raises(Interrupt):
        train(study, tasks, out, checkpoint_dir=str(checkpoints), on_epoch_end=interrupt_at(1, 2))
    assert not out.exists()
    assert sorted(p.name for p in checkpoints.iterdir()) == ["fold0_seed0.finished.json",
                                                             "fold1_seed0.pt"]
    seen: list[tuple[int, int]] = []
    train(study, tasks, out, checkpoint_dir=str(checkpoints),
          on_epoch_end=lambda end: seen.append((end.fold, end.epoch)))
    assert seen == [(1, 3), (1, 4)] + [(2, e) for e in range(1, 5)]  # fold 0 skipped
    assert_same_outputs(reference, out)
    # training checkpoints gone; each finished run's records stay
    assert sorted(p.name for p in checkpoints.iterdir()) == [
        f"fold{fold}_seed0.finished.json" for fold in range(N_FOLDS)]


def test_tables_deleted_after_a_finished_job_are_rebuilt_without_training(
    study: Path, tmp_path: Path
) -> None:
    # Snakemake deletes the tables of a job stopped (time limit) after writing them
    tasks = ["alpha_word"]
    checkpoints = str(tmp_path / "checkpoints")
    first = train(study, tasks, tmp_path / "first", checkpoint_dir=checkpoints)
    seen: list[EpochEnd] = []
    again = train(study, tasks, tmp_path / "again", checkpoint_dir=checkpoints,
                  on_epoch_end=seen.append)
    assert seen == []
    assert_same_outputs(first, again)


def test_checkpoint_of_another_configuration_is_ignored(study: Path, tmp_path: Path) -> None:
    changed = dict(TRAINING, learning_rate=0.02)
    reference = train(study, ["alpha_word"], tmp_path / "reference", training=changed)
    checkpoints = tmp_path / "checkpoints"
    with pytest.raises(Interrupt):
        train(study, ["alpha_word"], tmp_path / "old", checkpoint_dir=str(checkpoints),
              on_epoch_end=interrupt_at(0, 3))
    seen: list[tuple[int, int]] = []
    out = train(study, ["alpha_word"], tmp_path / "new", training=changed,
                checkpoint_dir=str(checkpoints),
                on_epoch_end=lambda end: seen.append((end.fold, end.epoch)))
    assert seen[0] == (0, 1)  # trained from scratch
    assert_same_outputs(reference, out)


def test_one_class_task_is_an_error(tmp_path: Path) -> None:
    make_dataset(tmp_path, "alpha", 30, {"word": 1}, seed=0)
    with pytest.raises(StudyInputError, match="alpha_word.*'word'.*1 class"):
        train(tmp_path, ["alpha_word"], tmp_path / "out")


def test_missing_label_column_is_an_error(tmp_path: Path) -> None:
    make_dataset(tmp_path, "alpha", 30, {"word": 3}, seed=0)
    with pytest.raises(StudyInputError, match="alpha_speaker.*'speaker'"):
        train(tmp_path, ["alpha_speaker"], tmp_path / "out")


def test_quick_scores_agree_with_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        y_true = rng.integers(0, 5, size=40)
        y_pred = rng.integers(1, 7, size=40)
        quick, reference = quick_scores(y_true, y_pred), classification_scores(y_true, y_pred)
        assert quick == pytest.approx(reference, abs=1e-12)


def test_final_metrics_match_the_last_epoch(study: Path, tmp_path: Path) -> None:
    tables = read_outputs(train(study, ["alpha_word", "beta_scene"], tmp_path / "m"))
    last = tables["history"].query(f"epoch == {TRAINING['epochs']}").drop(columns="epoch")
    final = tables["metrics"].query("metric in ['accuracy', 'macro_f1']")
    merged = final.merge(last, on=["task", "fold", "seed", "metric"])
    assert len(merged) == len(final)
    np.testing.assert_allclose(merged["value_x"], merged["value_y"], atol=1e-12)


def test_resume_after_a_crash_inside_an_epoch(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = train(study, ["alpha_word"], tmp_path / "reference")
    original_step = train_module.train_step
    calls = {"n": 0}

    def crashing_step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 20:  # fold 1, second epoch (3 steps per epoch, 4 epochs per fold)
            raise Interrupt
        return original_step(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_step", crashing_step)
    checkpoints = tmp_path / "checkpoints"
    with pytest.raises(Interrupt):
        train(study, ["alpha_word"], tmp_path / "resumed", checkpoint_dir=str(checkpoints))
    monkeypatch.setattr(train_module, "train_step", original_step)
    out = train(study, ["alpha_word"], tmp_path / "resumed", checkpoint_dir=str(checkpoints))
    assert_same_outputs(reference, out)


def test_clips_without_a_label_are_left_out_of_that_task(tmp_path: Path) -> None:
    make_dataset(tmp_path, "alpha", 60, {"word": 3, "speaker": 2}, seed=1)
    manifest_path = dataset_paths(tmp_path, "alpha")["manifest"]
    manifest = pd.read_parquet(manifest_path)
    manifest.loc[manifest.index % 4 == 0, "speaker"] = None
    write_table(manifest, manifest_path)
    out = train(tmp_path, ["alpha_speaker", "alpha_word"], tmp_path / "pair")
    efficiency = json.loads((out / "efficiency.json").read_text())
    assert efficiency["n_train_clips"] == {"alpha_speaker": 30, "alpha_word": 40}


def test_alternating_batches_take_turns_between_tasks(study: Path, tmp_path: Path) -> None:
    training = dict(TRAINING, batching="alternating")
    out = train(study, ["alpha_word", "beta_scene"], tmp_path / "alt", training=training)
    curve = read_outputs(out)["curve"].query("fold == 0")
    assert (curve.groupby("step").size() == 1).all()  # one task per step
    steps_per_epoch = int(np.ceil(40 / 16) + np.ceil(32 / 16))
    assert curve["step"].max() == TRAINING["epochs"] * steps_per_epoch
    first_epoch = curve.query(f"step <= {steps_per_epoch}")["task"].tolist()
    assert first_epoch == ["alpha_word", "beta_scene"] * 2 + ["alpha_word"]
    again = train(study, ["alpha_word", "beta_scene"], tmp_path / "again", training=training)
    assert_same_outputs(out, again)


def test_alternating_sampler_uses_every_labelled_row_once() -> None:
    from analysis.mtl.batching import make_sampler

    rows = torch.arange(10)
    labelled = {"a": rows < 6, "b": rows >= 3}
    sampler = make_sampler("alternating", rows, labelled, 4, torch.Generator().manual_seed(0))
    batches = sampler.batches()
    assert [b.tasks for b in batches] == [("a",), ("b",), ("a",), ("b",)]
    assert sampler.steps_per_epoch() == 4
    for task, mask in labelled.items():
        seen = torch.cat([b.rows for b in batches if b.tasks == (task,)])
        assert sorted(seen.tolist()) == rows[mask].tolist()
    with pytest.raises(StudyInputError, match="training.batching 'zigzag'"):
        make_sampler("zigzag", rows, labelled, 4, torch.Generator())


def test_early_stopping_scores_the_best_epoch(study: Path, tmp_path: Path) -> None:
    training = dict(TRAINING, epochs=12, learning_rate=0.05,
                    early_stopping={"patience": 2, "validation_fraction": 0.2})
    out = train(study, ["alpha_word"], tmp_path / "early", training=training)
    tables = read_outputs(out)
    history = tables["history"]
    validation = history.query("metric == 'validation_loss'")
    assert len(validation) == history.query("metric == 'accuracy'").shape[0] > 0
    best = json.loads((out / "efficiency.json").read_text())["best_epoch"]
    for fold in range(N_FOLDS):
        losses = validation.query(f"fold == {fold}").set_index("epoch")["value"]
        assert best[f"{fold}/0"] == {"alpha_word": losses.idxmin()}
        assert losses.index.max() <= min(12, losses.idxmin() + 2)
        at_best = history.query(f"fold == {fold} and epoch == {losses.idxmin()} and "
                                "metric == 'accuracy'")["value"].item()
        final = tables["metrics"].query(f"fold == {fold} and metric == 'accuracy'")
        assert final["value"].item() == pytest.approx(at_best)
    # 8 of the 40 training clips validate: 32 clips train, 2 steps per epoch
    epochs_run = validation.query("fold == 0")["epoch"].max()
    assert tables["curve"].query("fold == 0")["step"].max() == 2 * epochs_run


def test_validation_part_is_per_dataset_seeded_and_disjoint(study: Path) -> None:
    from analysis.mtl.data import build_fold, load_inputs
    from analysis.mtl.stopping import split_validation

    def fold_of(names: list[str]):
        datasets = sorted({TASKS[n]["dataset"] for n in names})
        paths = {d: dataset_paths(study, d) for d in datasets}
        inputs, tasks = load_inputs({n: TASKS[n] for n in names},
                                    *({d: str(p[kind]) for d, p in paths.items()}
                                      for kind in ("manifest", "features", "splits")))
        return build_fold(inputs, tasks, 0), datasets

    fold, datasets = fold_of(["alpha_word"])
    train_rows, val_rows = split_validation(fold, 0.25, 0, datasets)
    assert len(val_rows) == 10 and len(train_rows) == fold.n_rows - 10
    assert not set(train_rows.tolist()) & set(val_rows.tolist())
    assert torch.equal(val_rows, split_validation(fold, 0.25, 0, datasets)[1])
    assert not torch.equal(val_rows, split_validation(fold, 0.25, 1, datasets)[1])
    # the same clips of alpha validate in a pair with a task of another dataset
    pair, pair_datasets = fold_of(["alpha_word", "beta_scene"])
    pair_val = split_validation(pair, 0.25, 0, pair_datasets)[1]
    in_alpha = pair_val[pair_val < pair.offsets[1]]
    assert set(pair.train_clips[in_alpha.numpy()]) == set(fold.train_clips[val_rows.numpy()])
    assert len(pair_val) == 10 + 8  # and 8 of beta's 32 training clips


def test_early_stopping_resumes_to_the_same_numbers(study: Path, tmp_path: Path) -> None:
    training = dict(TRAINING, epochs=6, early_stopping={"patience": 2})
    reference = train(study, ["alpha_word"], tmp_path / "reference", training=training)
    checkpoints = tmp_path / "checkpoints"
    with pytest.raises(Interrupt):
        train(study, ["alpha_word"], tmp_path / "resumed", training=training,
              checkpoint_dir=str(checkpoints), on_epoch_end=interrupt_at(1, 2))
    out = train(study, ["alpha_word"], tmp_path / "resumed", training=training,
                checkpoint_dir=str(checkpoints))
    assert_same_outputs(reference, out)


def test_sgd_with_momentum(study: Path, tmp_path: Path) -> None:
    sgd = dict(TRAINING, optimizer="sgd", momentum=0.9, learning_rate=0.05, epochs=8)
    tables = read_outputs(train(study, ["alpha_word"], tmp_path / "sgd", training=sgd))
    assert tables["metrics"].query("metric == 'accuracy'")["value"].mean() > 0.5  # chance 1/3
    with pytest.raises(StudyInputError, match="training.momentum"):
        train(study, ["alpha_word"], tmp_path / "bad", training=dict(sgd, momentum=1.5))


def test_bad_early_stopping_is_an_error(study: Path, tmp_path: Path) -> None:
    with pytest.raises(StudyInputError, match="training.early_stopping"):
        train(study, ["alpha_word"], tmp_path / "bad",
              training=dict(TRAINING, early_stopping={"patience": 0}))


def test_windowed_rows_are_scored_per_clip(study: Path, tmp_path: Path) -> None:
    """Two feature rows per clip, mapped by clip_rows: the confusion counts clips, not rows."""
    root = tmp_path / "windows"
    make_dataset(root, "alpha", 60, {"word": 3}, seed=1)
    paths = dataset_paths(root, "alpha")
    features = np.load(paths["features"])
    write_array(np.repeat(features, 2, axis=0), paths["features"])
    clips_path = root / "features" / "alpha.clips.npy"
    write_array(np.repeat(np.arange(60), 2), clips_path)
    out = tmp_path / "out"
    train_study_model(
        tasks={"alpha_word": TASKS["alpha_word"]},
        manifests={"alpha": str(paths["manifest"])},
        features={"alpha": str(paths["features"])},
        splits={"alpha": str(paths["splits"])},
        out_dir=str(out), model=MODEL, training=TRAINING, progress=False,
        clip_rows={"alpha": str(clips_path)},
    )
    confusion = pd.read_parquet(out / "confusion.parquet")
    assert confusion.groupby("fold")["count"].sum().tolist() == [20, 20, 20]
