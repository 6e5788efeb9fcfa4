"""Corpus presets on tiny generated copies laid out like the real corpora (and on the real copies
in ../shared/data when present): labels, groups and the corpus's own split come out right."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from analysis.corpora.dataset_checks import dataset_config_problems
from analysis.corpora.presets import PRESETS, resolve_dataset
from analysis.corpora.readers import index_dataset
from analysis.corpora.splits import predefined_folds
from analysis.errors import StudyInputError

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tone(path: Path, sample_rate: int = 8000, **kwargs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(0.05 * sample_rate)) / sample_rate
    sf.write(path, (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sample_rate, **kwargs)


def index(tmp_path: Path, root: Path, reader: str, tasks: dict, options: dict | None = None, folds: int = 2):
    out = tmp_path / "out" / "manifest.parquet"
    skipped = tmp_path / "out" / "skipped.csv"
    index_dataset("corpus", reader, str(root), tasks, folds, str(out), options or {}, str(skipped))
    manifest = pd.read_parquet(out).set_index("clip_id", drop=False)
    assert list(pd.read_csv(skipped).columns) == ["file", "reason"]
    return manifest


def folds(manifest: pd.DataFrame, reader: str, options: dict | None = None) -> pd.Series:
    folds_from = resolve_dataset({"reader": reader, **(options or {})})["folds_from"]
    return pd.Series(predefined_folds(manifest, folds_from), index=manifest.index)


def test_every_preset_passes_the_parse_time_checks(tmp_path: Path) -> None:
    for name, preset in PRESETS.items():
        assert preset["reader"] in ("manifest", "folders", "pattern"), name
        tasks = {"t": "label"}
        problems = dataset_config_problems("c", {"reader": name, "path": str(tmp_path), "tasks": tasks})
        assert not [p for p in problems if "pattern" in p and "regular expression" in p], (name, problems)
    resolved = resolve_dataset({"reader": "esc10", "folds_from": False, "tasks": {}})
    assert resolved["reader"] == "pattern" and resolved["folds_from"] is False and resolved["group"] == "source"


def test_fsdd_official_test_split(tmp_path: Path) -> None:
    root = tmp_path / "fsdd"
    for digit in "01":
        for speaker in ("jackson", "theo"):
            for i in range(7):
                tone(root / "recordings" / f"{digit}_{speaker}_{i}.wav")
    manifest = index(tmp_path, root, "fsdd", {"d": "digit", "s": {"label": "speaker"}})
    row = manifest.loc["recordings/1_theo_6.wav"]
    assert (row["digit"], row["speaker"], row["group"], row["split"]) == ("1", "theo", "theo", "train")
    test = folds(manifest, "fsdd")
    assert (test[manifest["split"] == "test"] == 0).all() and (test[manifest["split"] == "train"] == -1).all()
    assert (manifest["split"] == "test").sum() == 20  # recordings 0-4 of each digit and speaker


def test_esc10_folds_in_the_file_name(tmp_path: Path) -> None:
    root = tmp_path / "ESC-10"
    for folder in ("001 - Dog bark", "010 - Fire crackling"):
        for fold in (1, 2, 3):
            tone(root / folder / f"{fold}-{1000 + fold}-A.ogg", 44100)
            tone(root / folder / f"{fold}-{1000 + fold}-B.ogg", 44100)
    tone(root / "001 - Dog bark" / "not-a-clip.wav")
    manifest = index(tmp_path, root, "esc10", {"esc": "class"}, folds=3)
    assert sorted(manifest["class"].unique()) == ["Dog bark", "Fire crackling"]
    assert len(manifest) == 12 and set(manifest["sample_rate"]) == {44100}
    assert folds(manifest, "esc10").loc["001 - Dog bark/3-1003-B.ogg"] == 2  # fold 3 -> 2
    assert manifest.loc["001 - Dog bark/3-1003-B.ogg", "group"] == "1003"


def test_esc50_metadata_csv(tmp_path: Path) -> None:
    root = tmp_path / "ESC-50-master"
    rows = []
    for fold in (1, 2):
        for target, category in ((0, "dog"), (41, "chainsaw")):
            for take in "AB":
                name = f"{fold}-{100 + fold}{target}-{take}-{target}.wav"
                tone(root / "audio" / name, 44100)
                rows.append([name, fold, target, category, str(target == 0), f"{100 + fold}{target}", take])
    columns = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
    (root / "meta").mkdir()
    pd.DataFrame(rows, columns=columns).to_csv(root / "meta" / "esc50.csv", index=False)
    manifest = index(tmp_path, root, "esc50", {"esc_category": "category", "esc_is10": "esc10"})
    row = manifest.loc["audio/2-1020-B-0.wav"]
    assert (row["category"], row["esc10"], row["fold"], row["group"]) == ("dog", "True", "2", "1020")
    assert sorted(folds(manifest, "esc50").unique()) == [0, 1]


def test_speech_commands_lists_with_absent_entries(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "speech_commands_v0.01"
    speakers = ["0a7c2a8d", "0b09edd3", "0c40e715", "0ea0e2f4"]
    for word in ("yes", "no"):
        for speaker in speakers:
            tone(root / word / f"{speaker}_nohash_0.wav", 16000)
    tone(root / "_background_noise_" / "white_noise.wav", 16000)
    (root / "testing_list.txt").write_text("yes/0a7c2a8d_nohash_0.wav\nno/0a7c2a8d_nohash_0.wav\nno/ffffffff_nohash_9.wav\n")
    (root / "validation_list.txt").write_text("yes/0b09edd3_nohash_0.wav\n")
    manifest = index(tmp_path, root, "speech_commands", {"w": "word"}, folds=2)
    assert len(manifest) == 8 and "_background_noise_/white_noise.wav" not in manifest.index
    assert "1 of 3 entries of testing_list.txt name no clip" in caplog.text and "ffffffff" in caplog.text
    assert manifest["split"].value_counts().to_dict() == {"train": 5, "test": 2, "validation": 1}
    fold = folds(manifest, "speech_commands")
    assert fold.loc["no/0a7c2a8d_nohash_0.wav"] == 0 and fold.loc["yes/0b09edd3_nohash_0.wav"] == -1
    assert sorted(fold.unique()) == [-1, 0]


def test_urbansound8k_metadata_and_folds(tmp_path: Path) -> None:
    root = tmp_path / "UrbanSound8K"
    rows = []
    for fold in (1, 2, 10):
        for class_id, name in ((3, "dog_bark"), (8, "siren")):
            slice_name = f"{100 + fold}-{class_id}-0-0.wav"
            tone(root / "audio" / f"fold{fold}" / slice_name, 22050)
            rows.append([slice_name, 100 + fold, 0.0, 4.0, 1, fold, class_id, name])
    columns = ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]
    (root / "metadata").mkdir(parents=True)
    pd.DataFrame(rows, columns=columns).to_csv(root / "metadata" / "UrbanSound8K.csv", index=False)
    manifest = index(tmp_path, root, "urbansound8k", {"us_class": "class"}, folds=3)
    assert manifest.loc["audio/fold10/110-8-0-0.wav", "class"] == "siren"
    assert manifest.loc["audio/fold10/110-8-0-0.wav", "group"] == "110"
    fold = folds(manifest, "urbansound8k")
    assert fold.loc["audio/fold10/110-8-0-0.wav"] == 2 and fold.loc["audio/fold2/102-3-0-0.wav"] == 1


def test_gtzan_au_files(tmp_path: Path) -> None:
    root = tmp_path / "genres"
    for genre in ("blues", "jazz"):
        for i in range(2):
            tone(root / genre / f"{genre}.{i:05d}.au", 22050)
    manifest = index(tmp_path, root, "gtzan", {"genre": "genre"})
    assert manifest["genre"].value_counts().to_dict() == {"blues": 2, "jazz": 2}
    assert set(manifest["sample_rate"]) == {22050}


def test_ravdess_codes_to_names(tmp_path: Path) -> None:
    root = tmp_path / "Audio_Speech_Actors_01-24"
    for actor in ("01", "02"):
        for emotion in ("03", "05"):
            for repetition in ("01", "02"):
                tone(root / f"Actor_{actor}" / f"03-01-{emotion}-02-01-{repetition}-{actor}.wav", 48000)
    manifest = index(tmp_path, root, "ravdess", {"emo": "emotion", "sex": "sex"})
    row = manifest.loc["Actor_02/03-01-05-02-01-01-02.wav"]
    assert (row["emotion"], row["sex"], row["group"]) == ("angry", "female", "02")
    assert manifest.loc["Actor_01/03-01-03-02-01-02-01.wav", "sex"] == "male"


def test_crema_d_with_demographics(tmp_path: Path) -> None:
    root = tmp_path / "CREMA-D"
    for actor in ("1001", "1002"):
        for emotion in ("ANG", "SAD"):
            for sentence in ("DFA", "IEO"):
                tone(root / "AudioWAV" / f"{actor}_{sentence}_{emotion}_XX.wav", 16000)
    pd.DataFrame({"ActorID": [1001, 1002], "Age": [51, 21], "Sex": ["Male", "Female"]}).to_csv(
        root / "VideoDemographics.csv", index=False
    )
    options = {"metadata": {"path": "VideoDemographics.csv", "on": "actor", "key": "ActorID"}}
    manifest = index(tmp_path, root, "crema_d", {"emo": "emotion", "sex": "Sex"}, options)
    row = manifest.loc["AudioWAV/1002_IEO_SAD_XX.wav"]
    assert (row["emotion"], row["Sex"], row["group"]) == ("sad", "Female", "1002")


def test_emodb_letters_to_emotions_and_sex(tmp_path: Path) -> None:
    root = tmp_path / "emodb"
    for speaker in ("03", "08"):
        for emotion in ("W", "N"):
            for text in ("a01", "b02"):
                tone(root / "wav" / f"{speaker}{text}{emotion}a.wav", 16000)
    manifest = index(tmp_path, root, "emodb", {"emo": "emotion", "sex": "sex"})
    row = manifest.loc["wav/08b02Wa.wav"]
    assert (row["emotion"], row["sex"], row["group"]) == ("anger", "female", "08")


def test_nsynth_json_metadata_multilabel_and_test_split(tmp_path: Path) -> None:
    root = tmp_path / "nsynth"
    for split, instruments in (("train", ("bass_synthetic_033", "guitar_acoustic_010")), ("test", ("bass_electronic_018", "guitar_electronic_022"))):
        examples = {}
        for instrument in instruments:
            for pitch in (60, 62):
                note = f"{instrument}-{pitch:03d}-100"
                tone(root / f"nsynth-{split}" / "audio" / f"{note}.wav", 16000)
                examples[note] = {
                    "note_str": note, "pitch": pitch, "instrument_str": instrument,
                    "instrument_family_str": instrument.split("_")[0],
                    "qualities_str": ["bright", "dark"] if pitch == 60 else ["bright"],
                }
        (root / f"nsynth-{split}" / "examples.json").write_text(json.dumps(examples))
    tasks = {"family": "instrument_family_str", "qualities": {"label": "qualities_str", "type": "multilabel"}}
    manifest = index(tmp_path, root, "nsynth", tasks, folds=1)
    row = manifest.loc["nsynth-test/audio/guitar_electronic_022-060-100.wav"]
    assert (row["instrument_family_str"], row["qualities_str"], row["group"]) == ("guitar", "bright;dark", "guitar_electronic_022")
    fold = folds(manifest, "nsynth")
    assert (fold[manifest["split"] == "test"] == 0).all() and (fold[manifest["split"] == "train"] == -1).all()


def test_librispeech_speakers_txt(tmp_path: Path) -> None:
    root = tmp_path / "LibriSpeech"
    for speaker, chapter in (("84", "121123"), ("174", "50561")):
        for utterance in range(2):
            tone(root / "dev-clean" / speaker / chapter / f"{speaker}-{chapter}-{utterance:04d}.flac", 16000)
    (root / "SPEAKERS.TXT").write_text(
        "; Some comment\n;ID  |SEX| SUBSET           |MINUTES| NAME\n"
        "84   | F | dev-clean        |  8.02 | Christie Nowak\n"
        "174  | M | dev-clean        |  8.04 | Peter | with a pipe\n"
    )
    manifest = index(tmp_path, root, "librispeech", {"spk": "speaker", "sex": "sex"})
    row = manifest.loc["dev-clean/174/50561/174-50561-0001.flac"]
    assert (row["speaker"], row["sex"], row["group"]) == ("174", "M", "50561")


def test_tut_scenes_meta_txt(tmp_path: Path) -> None:
    root = tmp_path / "TUT-acoustic-scenes-2017-development"
    lines = []
    for scene, location in (("beach", "b020"), ("bus", "a001"), ("beach", "b021"), ("bus", "a002")):
        for start in (0, 10):
            rel = f"audio/{location}_{start}_{start + 10}.wav"
            tone(root / rel, 44100, subtype="PCM_24")
            lines.append(f"{rel}\t{scene}\t{location}")
    (root / "meta.txt").write_text("\n".join(lines) + "\n")
    manifest = index(tmp_path, root, "tut_scenes", {"scene": "scene"})
    assert manifest.loc["audio/b021_10_20.wav", "scene"] == "beach"
    assert manifest.loc["audio/b021_10_20.wav", "group"] == "b021"


# Real corpora -------------------------------------------------------------------------------------


def shared_corpus(name: str) -> Path:
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"real test corpora not found at {SHARED_DATA} (a fresh clone has no ../shared/data)")
    return folder


def test_real_fsdd_preset(tmp_path: Path) -> None:
    manifest = index(tmp_path, shared_corpus("fsdd"), "fsdd", {"d": "digit", "s": "speaker"}, folds=5)
    assert len(manifest) == 3000 and manifest["group"].nunique() == 6
    assert (manifest["split"] == "test").sum() == 300
    assert sorted(folds(manifest, "fsdd").unique()) == [-1, 0]


def test_real_esc10_preset(tmp_path: Path) -> None:
    manifest = index(tmp_path, shared_corpus("esc10"), "esc10", {"c": "class"}, folds=5)
    assert len(manifest) == 400 and manifest["class"].nunique() == 10
    fold = folds(manifest, "esc10")
    assert fold.value_counts().to_dict() == {f: 80 for f in range(5)}
    assert (pd.crosstab(fold, manifest["class"]) == 8).all().all()
    # ESC keeps the clips cut from one recording inside one fold.
    assert (pd.DataFrame({"g": manifest["group"], "f": fold}).groupby("g")["f"].nunique() == 1).all()


def test_real_speech_commands_excerpt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = shared_corpus("speech_commands_mini") / "speech_commands_v0.01"
    with pytest.raises(StudyInputError) as error:
        index(tmp_path, root, "speech_commands", {"w": "word"}, folds=5)
    assert "fewer clips in the predefined test folds" in str(error.value) and "folds_from: false" in str(error.value)
    assert "testing_list.txt name no clip" in caplog.text
    manifest = index(tmp_path, root, "speech_commands", {"w": "word"}, {"folds_from": False}, folds=5)
    assert len(manifest) == 300 and manifest["word"].nunique() == 30
    assert "split" not in manifest.columns  # only kept when it is the dataset's split
    # Words with a clip in the excerpt's testing list can use the official split.
    kept = index(tmp_path, root, "speech_commands", {"w": {"label": "word", "keep": ["yes", "no", "up", "down"]}})
    fold = folds(kept, "speech_commands")
    assert set(fold.unique()) == {-1, 0} and (kept["split"] == "test").sum() == (fold == 0).sum() == 51
