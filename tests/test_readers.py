"""Dataset indexing: every reader produces the manifest contract; bad input gets a clear message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from analysis.corpora.dataset_checks import dataset_config_problems
from analysis.corpora.listing import list_audio_files
from analysis.corpora.readers import index_dataset
from analysis.corpora.splits import predefined_folds
from analysis.errors import StudyInputError

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CONTRACT = ["clip_id", "path", "duration_s", "sample_rate", "channels"]


def write_audio(path: Path, seconds: float = 0.2, sample_rate: int = 8000, channels: int = 1, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(path)))
    data = 0.1 * rng.standard_normal((int(seconds * sample_rate), channels)).astype(np.float32)
    sf.write(path, data, sample_rate, **kwargs)
    return path


@pytest.fixture
def manifest_dataset(tmp_path: Path) -> Path:
    """Six clips in three formats; labels `digit` (numbers) and `speaker`."""
    root = tmp_path / "ds"
    rows = []
    for i in range(6):
        suffix, rate, channels = [(".wav", 8000, 1), (".flac", 16000, 2), (".ogg", 22050, 1)][i % 3]
        rel = f"audio/clip{i}{suffix}"
        write_audio(root / rel, seconds=0.1 * (i + 1), sample_rate=rate, channels=channels)
        rows.append({"path": rel, "digit": str(i % 2), "speaker": f"s{i % 3}"})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


def check_contract(manifest: pd.DataFrame, root: Path, labels: list[str]) -> None:
    assert list(manifest.columns[: len(CONTRACT)]) == CONTRACT
    for column in labels:
        assert column in manifest.columns
        assert all(isinstance(v, str) for v in manifest[column])
    assert manifest["clip_id"].is_unique
    assert list(manifest["clip_id"]) == sorted(manifest["clip_id"])
    for clip_id, path in zip(manifest["clip_id"], manifest["path"]):
        assert Path(path).is_absolute() and Path(path).is_file()
        assert Path(path) == root.resolve() / clip_id
        assert "\\" not in clip_id
    assert manifest["duration_s"].dtype == np.float64
    assert manifest["sample_rate"].dtype == np.int64
    assert manifest["channels"].dtype == np.int64
    assert (manifest["duration_s"] > 0).all()


# Readers -------------------------------------------------------------------------------------------


def test_manifest_csv_reader_writes_the_contract(manifest_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "manifest.parquet"
    index_dataset("toy", "manifest", str(manifest_dataset), {"toy_digit": "digit", "toy_spk": "speaker"}, 2, str(out))
    manifest = pd.read_parquet(out)
    check_contract(manifest, manifest_dataset, ["digit", "speaker"])
    assert "group" not in manifest.columns
    first = manifest.set_index("clip_id").loc["audio/clip1.flac"]
    assert first["sample_rate"] == 16000 and first["channels"] == 2
    assert first["duration_s"] == pytest.approx(0.2)
    assert first["digit"] == "1"  # numeric labels stay strings
    ogg = manifest.set_index("clip_id").loc["audio/clip2.ogg"]
    assert ogg["sample_rate"] == 22050 and ogg["duration_s"] == pytest.approx(0.3, abs=1e-3)


def test_manifest_tsv_and_parquet_with_group(manifest_dataset: Path, tmp_path: Path) -> None:
    table = pd.read_csv(manifest_dataset / "manifest.csv", dtype=str)
    table["path"] = [str(manifest_dataset / p) for p in table["path"]]  # absolute paths work too
    table.to_csv(manifest_dataset / "list.tsv", sep="\t", index=False)
    table.assign(digit=table["digit"].astype(int)).to_parquet(manifest_dataset / "list.parquet")
    outs = []
    for name in ("list.tsv", "list.parquet"):
        out = tmp_path / f"{name}.parquet"
        index_dataset(
            "toy", "manifest", str(manifest_dataset), {"toy_digit": "digit"}, 2, str(out),
            {"manifest": name, "group": "speaker"},
        )
        outs.append(pd.read_parquet(out))
    for manifest in outs:
        check_contract(manifest, manifest_dataset, ["digit"])
        assert list(manifest["group"]) == list(manifest["clip_id"].map(lambda c: f"s{int(c[10]) % 3}"))
        assert "speaker" not in manifest.columns  # only task label columns (and group) are kept
    pd.testing.assert_frame_equal(outs[0], outs[1])


def test_folders_reader_depth_and_extensions(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "ds"
    for label in ("cat", "dog"):
        for i in range(3):
            write_audio(root / "part1" / label / f"{i}.wav")
    write_audio(root / "part1" / "dog" / "extra.flac")
    write_audio(root / "part1" / "dog" / ".hidden.wav")
    write_audio(root / "loose.wav")  # too shallow for depth 2: skipped with a warning
    (root / "part1" / "cat" / "notes.txt").write_text("not audio")

    out = tmp_path / "folders.parquet"
    index_dataset("pets", "folders", str(root), {"pet": "label"}, 3, str(out), {"depth": 2})
    manifest = pd.read_parquet(out)
    check_contract(manifest, root, ["label"])
    assert manifest["label"].value_counts().to_dict() == {"dog": 4, "cat": 3}
    assert "loose.wav" in caplog.text

    out_wav = tmp_path / "wav_only.parquet"
    index_dataset("pets", "folders", str(root / "part1"), {"pet": "label"}, 3, str(out_wav), {"extensions": ["WAV"]})
    assert len(pd.read_parquet(out_wav)) == 6


def test_pattern_reader_named_groups(tmp_path: Path) -> None:
    root = tmp_path / "fsdd_like"
    for digit in range(2):
        for speaker in ("ann", "bob"):
            for take in range(2):
                write_audio(root / "recordings" / f"{digit}_{speaker}_{take}.wav")
    out = tmp_path / "pattern.parquet"
    index_dataset(
        "fsddlike", "pattern", str(root), {"digit": "digit", "who": "speaker"}, 2, str(out),
        {"pattern": r"(?P<digit>\d)_(?P<speaker>[a-z]+)_\d+\.wav$", "group": "speaker"},
    )
    manifest = pd.read_parquet(out)
    check_contract(manifest, root, ["digit", "speaker"])
    row = manifest.set_index("clip_id").loc["recordings/1_bob_0.wav"]
    assert (row["digit"], row["speaker"], row["group"]) == ("1", "bob", "bob")


def test_list_audio_files_is_sorted_posix(tmp_path: Path) -> None:
    for rel in ("b/2.wav", "a/10.WAV", "a/1.ogg", "c.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    assert list_audio_files(tmp_path, (".wav", ".ogg")) == ["a/1.ogg", "a/10.WAV", "b/2.wav"]


# Validation ----------------------------------------------------------------------------------------


def expect_error(tmp_path: Path, *args, options: dict | None = None, n_folds: int = 2) -> str:
    """Run index_dataset expecting a StudyInputError; check nothing was written; return the message."""
    out = tmp_path / "never" / "manifest.parquet"
    name, reader, path, tasks = args
    with pytest.raises(StudyInputError) as error:
        index_dataset(name, reader, str(path), tasks, n_folds, str(out), options)
    assert not out.exists()
    return str(error.value)


def test_missing_dataset_path(tmp_path: Path) -> None:
    message = expect_error(tmp_path, "gone", "manifest", tmp_path / "nowhere", {"t": "digit"})
    assert "datasets.gone.path" in message and "nowhere" in message


def test_unknown_reader(manifest_dataset: Path, tmp_path: Path) -> None:
    message = expect_error(tmp_path, "toy", "csv", manifest_dataset, {"t": "digit"})
    assert "datasets.toy.reader" in message and "folders" in message and "pattern" in message


def test_missing_manifest_file_and_path_column(manifest_dataset: Path, tmp_path: Path) -> None:
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"t": "digit"}, options={"manifest": "x.csv"})
    assert "datasets.toy.manifest" in message and "x.csv" in message
    pd.DataFrame({"file": ["a.wav"], "digit": ["1"]}).to_csv(manifest_dataset / "bad.csv", index=False)
    message = expect_error(
        tmp_path, "toy", "manifest", manifest_dataset, {"t": "digit"}, options={"manifest": "bad.csv"}
    )
    assert "bad.csv" in message and "`path` column" in message


def test_listed_file_missing(manifest_dataset: Path, tmp_path: Path) -> None:
    table = pd.read_csv(manifest_dataset / "manifest.csv", dtype=str)
    (manifest_dataset / table["path"][4]).unlink()
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"t": "digit"})
    assert "manifest.csv" in message and "clip4.flac" in message and "do not exist" in message


def test_blank_path_and_blank_label_cells(manifest_dataset: Path, tmp_path: Path) -> None:
    table = pd.read_csv(manifest_dataset / "manifest.csv", dtype=str)
    table.loc[2, "digit"] = ""
    table.to_csv(manifest_dataset / "manifest.csv", index=False)
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"toy_digit": "digit"})
    assert "datasets.toy.tasks.toy_digit" in message and "empty for 1 clips" in message and "clip2.ogg" in message
    table.loc[3, "path"] = ""
    table.to_csv(manifest_dataset / "manifest.csv", index=False)
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"toy_digit": "digit"})
    assert "manifest.csv" in message and "`path` column is empty on lines 5" in message


def test_missing_label_column_names_task_column_and_existing(manifest_dataset: Path, tmp_path: Path) -> None:
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"toy_word": "word"})
    assert "datasets.toy.tasks.toy_word" in message and "'word'" in message
    assert "digit" in message and "speaker" in message


def test_single_class_task(manifest_dataset: Path, tmp_path: Path) -> None:
    table = pd.read_csv(manifest_dataset / "manifest.csv", dtype=str)
    table.assign(mood="calm").to_csv(manifest_dataset / "manifest.csv", index=False)
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"toy_mood": "mood"})
    assert "toy_mood" in message and "single class" in message and "'calm'" in message


def test_too_few_clips_per_class(manifest_dataset: Path, tmp_path: Path) -> None:
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"toy_spk": "speaker"}, n_folds=3)
    # speaker has 2 clips per class, so folds = 3 cannot hold every class in every fold
    assert "toy_spk" in message and "'s0' (2 clips)" in message and "folds = 3" in message
    assert "lower `folds`" in message and "drop" in message


def test_unreadable_and_empty_files_are_named(manifest_dataset: Path, tmp_path: Path) -> None:
    table = pd.read_csv(manifest_dataset / "manifest.csv", dtype=str)
    (manifest_dataset / "audio" / "broken.wav").write_bytes(b"RIFF....WAVEjunk" * 10)
    sf.write(manifest_dataset / "audio" / "empty.wav", np.zeros((0, 1), dtype=np.float32), 8000)
    extra = pd.DataFrame(
        {"path": ["audio/broken.wav", "audio/empty.wav"], "digit": ["0", "1"], "speaker": ["s0", "s1"]}
    )
    pd.concat([table, extra]).to_csv(manifest_dataset / "manifest.csv", index=False)
    (manifest_dataset / "audio" / "zero.wav").write_bytes(b"")
    pd.concat([table, extra, pd.DataFrame({"path": ["audio/zero.wav"], "digit": ["1"], "speaker": ["s2"]})]).to_csv(
        manifest_dataset / "manifest.csv", index=False
    )
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"t": "digit"}, options={"bad_files": "fail"})
    assert "broken.wav: cannot read" in message and "zero.wav: the file is empty (0 bytes)" in message
    assert "empty.wav: the audio file is empty" in message and "bad_files: skip" in message
    assert not (tmp_path / "never").exists()

    # The default, bad_files: skip, leaves them out and lists them in skipped.csv.
    out, skipped = tmp_path / "ok" / "manifest.parquet", tmp_path / "ok" / "skipped.csv"
    index_dataset("toy", "manifest", str(manifest_dataset), {"t": "digit"}, 2, str(out), {}, str(skipped))
    assert len(pd.read_parquet(out)) == 6
    report = pd.read_csv(skipped)
    assert sorted(Path(f).name for f in report["file"]) == ["broken.wav", "empty.wav", "zero.wav"]
    assert report.set_index(report["file"].map(lambda f: Path(f).name)).loc["empty.wav", "reason"].startswith(
        "the audio file is empty"
    )
    # A dataset with nothing bad still gets its (empty) report.
    clean = tmp_path / "clean"
    table.to_csv(manifest_dataset / "clean.csv", index=False)
    options = {"manifest": "clean.csv"}
    index_dataset("toy", "manifest", str(manifest_dataset), {"t": "digit"}, 2, str(clean / "m.parquet"), options,
                  str(clean / "skipped.csv"))
    assert pd.read_csv(clean / "skipped.csv").empty


def test_bad_files_with_too_few_clips_left(manifest_dataset: Path, tmp_path: Path) -> None:
    """Skipping happens before the class counts, so a class thinned out by bad files is caught."""
    (manifest_dataset / "audio" / "clip0.wav").write_bytes(b"")
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"t": "digit"}, n_folds=3)
    assert "'0' (2 clips)" in message and "folds = 3" in message


def test_unknown_reader_option(manifest_dataset: Path, tmp_path: Path) -> None:
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"t": "digit"}, options={"manifst": "m.csv"})
    assert "datasets.toy" in message and "manifst" in message and "accepts" in message


def test_pattern_that_matches_nothing(tmp_path: Path) -> None:
    write_audio(tmp_path / "ds" / "a.wav")
    options = {"pattern": r"(?P<x>\d+)\.wav"}
    message = expect_error(tmp_path, "p", "pattern", tmp_path / "ds", {"t": "x"}, options=options)
    assert "datasets.p.pattern" in message and "matches none" in message


# Parse-time config checks --------------------------------------------------------------------------


def test_dataset_config_problems(manifest_dataset: Path) -> None:
    good = {"reader": "manifest", "path": str(manifest_dataset), "tasks": {"t": "digit"}, "manifest": "manifest.csv"}
    assert dataset_config_problems("toy", good) == []
    demo = {"reader": "manifest", "demo": {"kind": "words"}, "tasks": {"t": "w"}}
    assert dataset_config_problems("demo1", demo) == []

    problems = dataset_config_problems("toy", {**good, "tasks": {"t": "word"}})
    assert len(problems) == 1 and "datasets.toy.tasks.t" in problems[0] and "digit" in problems[0]
    problems = dataset_config_problems("toy", {**good, "path": "/no/such/folder"})
    assert problems and "datasets.toy.path" in problems[0]
    problems = dataset_config_problems("toy", {**good, "reader": "folder"})
    assert problems and "datasets.toy.reader" in problems[0] and "folders" in problems[0]
    problems = dataset_config_problems("toy", {**good, "reader": "pattern"})
    assert any("datasets.toy.pattern is missing" in p for p in problems)
    problems = dataset_config_problems("toy", {**good, "reader": "pattern", "pattern": r"(?P<digit>\d"})
    assert any("not a valid regular expression" in p for p in problems)
    problems = dataset_config_problems("toy", {**good, "reader": "pattern", "pattern": r"(?P<num>\d)"})
    assert any("datasets.toy.tasks.t" in p and "num" in p for p in problems)
    problems = dataset_config_problems("toy", {**good, "reader": "folders", "depth": 0})
    assert any("datasets.toy.depth" in p for p in problems)
    assert any("datasets.toy.tasks.t" in p and "label" in p for p in problems)


# Real corpora --------------------------------------------------------------------------------------


def shared_corpus(name: str) -> Path:
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"real test corpora not found at {SHARED_DATA} (a fresh clone has no ../shared/data)")
    return folder


def test_real_fsdd_pattern_reader(tmp_path: Path) -> None:
    root = shared_corpus("fsdd")
    out = tmp_path / "fsdd.parquet"
    index_dataset(
        "fsdd", "pattern", str(root), {"fsdd_digit": "digit", "fsdd_speaker": "speaker"}, 5, str(out),
        {"pattern": r"recordings/(?P<digit>\d)_(?P<speaker>[a-z]+)_\d+\.wav$", "group": "speaker"},
    )
    manifest = pd.read_parquet(out)
    check_contract(manifest.head(50), root, ["digit", "speaker"])
    assert len(manifest) == 3000
    assert set(manifest["sample_rate"]) == {8000} and set(manifest["channels"]) == {1}
    assert manifest["digit"].nunique() == 10 and manifest["group"].nunique() == 6


def test_real_esc10_folders_reader_ogg(tmp_path: Path) -> None:
    root = shared_corpus("esc10")
    out = tmp_path / "esc10.parquet"
    index_dataset("esc10", "folders", str(root), {"esc_class": "label"}, 5, str(out))
    manifest = pd.read_parquet(out)
    assert len(manifest) == 400 and manifest["label"].nunique() == 10
    assert set(manifest["sample_rate"]) == {44100}
    # Most ESC-10 clips are 5 s; a few real ones are not (3.6 s to 7.2 s), and the header says so.
    assert manifest["duration_s"].median() == pytest.approx(5.0, abs=0.01)
    assert manifest["duration_s"].between(3.0, 8.0).all()


# Annotations: metadata join, derived columns, split lists, headerless tables ------------------------


@pytest.fixture
def speakers_dataset(tmp_path: Path) -> Path:
    """FSDD-like: recordings/{digit}_{speaker}_{take}.wav, speakers.csv with gender and accent."""
    root = tmp_path / "spk"
    for digit in "01":
        for speaker in ("ann", "bob", "cat", "dan"):
            for take in range(2):
                write_audio(root / "recordings" / f"{digit}_{speaker}_{take}.wav", seconds=0.05)
    pd.DataFrame(
        {"name": ["ann", "bob", "cat", "dan", "eve"], "gender": ["f", "m", "f", "m", "f"], "accent": ["us", "us", "uk", "uk", "us"]}
    ).to_csv(root / "speakers.csv", index=False)
    return root


PATTERN = r"recordings/(?P<digit>\d)_(?P<speaker>[a-z]+)_(?P<take>\d+)\.wav$"


def test_pattern_reader_joins_metadata_on_a_group(speakers_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.parquet"
    options = {"pattern": PATTERN, "metadata": {"path": "speakers.csv", "on": "speaker", "key": "name"}, "group": "speaker"}
    tasks = {"gender": {"label": "gender", "type": "binary", "positive": "f"}, "accent": "accent"}
    index_dataset("spk", "pattern", str(speakers_dataset), tasks, 2, str(out), options)
    manifest = pd.read_parquet(out).set_index("clip_id")
    assert manifest.loc["recordings/1_cat_0.wav", ["gender", "accent", "group"]].tolist() == ["f", "uk", "cat"]
    assert "name" not in manifest.columns and "take" not in manifest.columns


def test_metadata_problems_are_named(speakers_dataset: Path, tmp_path: Path) -> None:
    tasks = {"t": "digit"}
    bad_on = {"pattern": PATTERN, "metadata": {"path": "speakers.csv", "on": "person"}}
    assert "datasets.spk.metadata.on" in expect_error(tmp_path, "spk", "pattern", speakers_dataset, tasks, options=bad_on)
    bad_key = {"pattern": PATTERN, "metadata": {"path": "speakers.csv", "on": "speaker"}}
    message = expect_error(tmp_path, "spk", "pattern", speakers_dataset, tasks, options=bad_key)
    assert "datasets.spk.metadata.key" in message and "'speaker'" in message
    gone = {"pattern": PATTERN, "metadata": {"path": "nobody.csv", "on": "speaker"}}
    assert "nobody.csv" in expect_error(tmp_path, "spk", "pattern", speakers_dataset, tasks, options=gone)
    table = pd.read_csv(speakers_dataset / "speakers.csv")
    pd.concat([table, table.head(1)]).assign(gender=lambda t: ["x"] + list(t["gender"][1:])).to_csv(
        speakers_dataset / "twice.csv", index=False
    )
    twice = {"pattern": PATTERN, "metadata": {"path": "twice.csv", "on": "speaker", "key": "name"}}
    assert "several rows" in expect_error(tmp_path, "spk", "pattern", speakers_dataset, tasks, options=twice)


def test_derive_split_lists_and_predefined_folds(speakers_dataset: Path, tmp_path: Path) -> None:
    (speakers_dataset / "test.txt").write_text("recordings/0_ann_0.wav\nrecordings/1_ann_0.wav\nrecordings/0_zed_0.wav\n")
    (speakers_dataset / "dev.txt").write_text("recordings/0_bob_1.wav\trest of the line\n")
    options = {
        "pattern": PATTERN,
        "derive": {"voice": {"from": "speaker", "values": {"ann": "high", "cat": "high"}, "default": "low"},
                   "digit": {"values": {"0": "zero", "1": "one"}}},
        "split_lists": {"test": "test.txt", "dev": "dev.txt"},
        "folds_from": {"column": "split", "test": ["test"]},
    }
    out = tmp_path / "m.parquet"
    index_dataset("spk", "pattern", str(speakers_dataset), {"d": "digit"}, 5, str(out), options)
    manifest = pd.read_parquet(out).set_index("clip_id")
    assert manifest.loc["recordings/1_cat_1.wav", ["digit", "split"]].tolist() == ["one", "train"]
    assert manifest["split"].value_counts().to_dict() == {"train": 13, "test": 2, "dev": 1}
    assert (predefined_folds(manifest, options["folds_from"]) == 0).sum() == 2
    # Two test folds (test, dev); `voice` 'low' (bob, dan) has one clip in them: too few.
    options["folds_from"] = {"column": "split", "test": ["test", "dev"]}
    message = expect_error(tmp_path, "spk", "pattern", speakers_dataset, {"v": "voice"}, options=options)
    assert "datasets.spk.tasks.v" in message and "'low' (1 clips)" in message and "test folds = 2" in message


def test_manifest_without_header(tmp_path: Path) -> None:
    root = tmp_path / "scenes"
    lines = []
    for i in range(4):
        write_audio(root / "audio" / f"a{i}.wav", seconds=0.05)
        lines.append(f"audio/a{i}.wav|{'park' if i % 2 else 'bus'}|loc{i // 2}")
    (root / "meta.txt").write_text("\n".join(lines))
    out = tmp_path / "m.parquet"
    options = {"manifest": "meta.txt", "sep": "|", "columns": ["path", "scene", "where"], "group": "where"}
    index_dataset("sc", "manifest", str(root), {"scene": "scene"}, 2, str(out), options)
    manifest = pd.read_parquet(out)
    assert manifest["scene"].tolist() == ["bus", "park", "bus", "park"] and manifest["group"].tolist()[-1] == "loc1"
    assert dataset_config_problems("sc", {"reader": "manifest", "path": str(root), "tasks": {"s": "scene"}, **options}) == []


# Task types and variants at indexing ----------------------------------------------------------------


def test_task_types_and_variants_are_checked_after_the_variant(manifest_dataset: Path, tmp_path: Path) -> None:
    table = pd.read_csv(manifest_dataset / "manifest.csv", dtype=str)
    table["tags"] = ["a;b", "b", "a", "a;c", "b;a", "c"]
    table["animal"] = ["dog", "cat", "cow", "dog", "cat", "cow"]
    table.to_csv(manifest_dataset / "manifest.csv", index=False)
    out = tmp_path / "m.parquet"
    tasks = {
        "tags": {"label": "tags", "type": "multilabel"},
        "is_dog": {"label": "animal", "type": "binary", "positive": "dog"},
        "pets": {"label": "animal", "keep": ["dog", "cat"]},
    }
    index_dataset("toy", "manifest", str(manifest_dataset), tasks, 2, str(out))
    assert {"tags", "animal"} <= set(pd.read_parquet(out).columns)

    # multilabel: each individual label needs `folds` clips ('c' has 2, not 3)
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"tags": tasks["tags"]}, n_folds=3)
    assert "datasets.toy.tasks.tags" in message and "'c' (2 clips)" in message
    # binary without positive on three classes
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"b": {"label": "animal", "type": "binary"}})
    assert "datasets.toy.tasks.b" in message and "exactly two classes" in message and "positive" in message
    message = expect_error(
        tmp_path, "toy", "manifest", manifest_dataset, {"b": {"label": "animal", "type": "binary", "positive": "fox"}}
    )
    assert "'fox' is not one of its values" in message
    # a variant leaving one class
    message = expect_error(tmp_path, "toy", "manifest", manifest_dataset, {"k": {"label": "animal", "keep": ["dog"]}})
    assert "single class after its keep" in message
    # a cap below the folds
    message = expect_error(
        tmp_path, "toy", "manifest", manifest_dataset, {"m": {"label": "animal", "max_per_label": 1}}
    )
    assert "max_per_label" in message and "(1 clips)" in message
