"""Corpus presets: widely used corpora as thin configurations of the generic readers.

`datasets.<name>.reader: <preset>` stands for the preset's keys (a base `reader` and its options,
the corpus's own split as `folds_from`, the speaker or source as `group`); every key the dataset
sets itself wins over the preset's, so `folds_from: false` turns a corpus's own split off and
`metadata: {...}` adds a table. `path` is the folder named in each preset's comment.
"""

from __future__ import annotations

import copy
from typing import Any

TEST_SPLIT = {"column": "split", "test": ["test"]}

RAVDESS_EMOTIONS = {
    "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
    "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
}
EMODB_EMOTIONS = {
    "W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness", "N": "neutral",
}
EMODB_MALE_SPEAKERS = ("03", "10", "11", "12", "15")
EMODB_FEMALE_SPEAKERS = ("08", "09", "13", "14", "16")
CREMA_D_EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
CREMA_D_LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}

PRESETS: dict[str, dict[str, Any]] = {
    # path: the FSDD repository (recordings/{digit}_{speaker}_{index}.wav). Its README's test set:
    # recordings 0-4 of each digit and speaker.
    "fsdd": {
        "reader": "pattern",
        "pattern": r"recordings/(?P<digit>\d)_(?P<speaker>[a-z]+)_(?P<index>\d+)\.wav$",
        "group": "speaker",
        "derive": {"split": {"from": "index", "values": {str(i): "test" for i in range(5)}, "default": "train"}},
        "folds_from": TEST_SPLIT,
    },
    # path: the ESC-10 repository ("001 - Dog bark/{fold}-{freesound id}-{take}.ogg").
    "esc10": {
        "reader": "pattern",
        "pattern": r"(?P<class_id>\d{3}) - (?P<class>[^/]+)/(?P<fold>[1-5])-(?P<source>\d+)-(?P<take>[A-Z])\.ogg$",
        "group": "source",
        "folds_from": "fold",
    },
    # path: the ESC-50 repository (audio/{fold}-{source}-{take}-{target}.wav, meta/esc50.csv).
    "esc50": {
        "reader": "pattern",
        "pattern": r"audio/(?P<filename>[1-5]-\d+-[A-Z]-\d+\.wav)$",
        "metadata": {"path": "meta/esc50.csv", "on": "filename"},
        "group": "src_file",
        "folds_from": "fold",
    },
    # path: the folder holding the word folders and testing_list.txt / validation_list.txt.
    "speech_commands": {
        "reader": "pattern",
        "pattern": r"^(?P<word>[a-z]+)/(?P<speaker>[0-9a-f]{8})_nohash_(?P<utterance>\d+)\.wav$",
        "split_lists": {"test": "testing_list.txt", "validation": "validation_list.txt"},
        "group": "speaker",
        "folds_from": TEST_SPLIT,
    },
    # path: UrbanSound8K/ (audio/fold{1..10}/{fsID}-{classID}-{occurrence}-{slice}.wav,
    # metadata/UrbanSound8K.csv).
    "urbansound8k": {
        "reader": "pattern",
        "pattern": r"audio/fold\d+/(?P<slice_file_name>[^/]+\.wav)$",
        "metadata": {"path": "metadata/UrbanSound8K.csv", "on": "slice_file_name"},
        "group": "fsID",
        "folds_from": "fold",
    },
    # path: genres/ (or genres_original/): {genre}/{genre}.000NN.au (.wav in later copies).
    "gtzan": {
        "reader": "pattern",
        "pattern": r"(?P<genre>[a-z]+)/(?P=genre)\.\d{5}\.(?:au|wav)$",
        "extensions": [".au", ".wav"],
    },
    # path: the folder of Actor_01 ... Actor_24 (audio-only speech and/or song releases);
    # modality-channel-emotion-intensity-statement-repetition-actor.wav, odd actors male.
    "ravdess": {
        "reader": "pattern",
        "pattern": (
            r"Actor_(?P<actor>\d{2})/(?P<modality>0[1-3])-(?P<channel>0[12])-(?P<emotion>0[1-8])-"
            r"(?P<intensity>0[12])-(?P<statement>0[12])-(?P<repetition>0[12])-(?P=actor)\.wav$"
        ),
        "group": "actor",
        "derive": {
            "emotion": {"values": RAVDESS_EMOTIONS},
            "intensity": {"values": {"01": "normal", "02": "strong"}},
            "channel": {"values": {"01": "speech", "02": "song"}},
            "sex": {"from": "actor", "values": {f"{a:02d}": "male" if a % 2 else "female" for a in range(1, 25)}},
        },
    },
    # path: the CREMA-D folder of AudioWAV/{actor}_{sentence}_{emotion}_{level}.wav. Add
    # `metadata: {path: VideoDemographics.csv, on: actor, key: ActorID}` for age, sex, race.
    "crema_d": {
        "reader": "pattern",
        "pattern": r"(?P<actor>\d{4})_(?P<sentence>[A-Z]{3})_(?P<emotion>[A-Z]{3})_(?P<level>[A-Z]{2})\.wav$",
        "group": "actor",
        "derive": {"emotion": {"values": CREMA_D_EMOTIONS}, "level": {"values": CREMA_D_LEVELS}},
    },
    # path: Berlin EmoDB (wav/{speaker}{text}{emotion}{version}.wav, e.g. 03a01Fa.wav).
    "emodb": {
        "reader": "pattern",
        "pattern": r"(?P<speaker>\d{2})(?P<text>[ab]\d{2})(?P<emotion>[WLEAFTN])(?P<version>[a-z])\.wav$",
        "group": "speaker",
        "derive": {
            "emotion": {"values": EMODB_EMOTIONS},
            "sex": {
                "from": "speaker",
                "values": {**{s: "male" for s in EMODB_MALE_SPEAKERS}, **{s: "female" for s in EMODB_FEMALE_SPEAKERS}},
            },
        },
    },
    # path: the folder holding nsynth-train/, nsynth-valid/, nsynth-test/ (audio/*.wav and
    # examples.json each). Labels: instrument_family_str, instrument_source_str, pitch, velocity,
    # qualities_str (multilabel, ';'-joined). Test fold: nsynth-test; train and valid: training only.
    "nsynth": {
        "reader": "pattern",
        "pattern": r"nsynth-(?P<split>train|valid|test)/audio/(?P<note_str>[^/]+)\.wav$",
        "metadata": {"path": "nsynth-*/examples.json", "on": "note_str"},
        "group": "instrument_str",
        "folds_from": TEST_SPLIT,
    },
    # path: LibriSpeech/ ({subset}/{speaker}/{chapter}/{speaker}-{chapter}-{utterance}.flac and
    # SPEAKERS.TXT: ID | SEX | SUBSET | MINUTES | NAME).
    "librispeech": {
        "reader": "pattern",
        "pattern": (
            r"(?P<subset>[a-z]+-[a-z]+(?:-\d+)?)/(?P<speaker>\d+)/(?P<chapter>\d+)/"
            r"(?P=speaker)-(?P=chapter)-(?P<utterance>\d+)\.flac$"
        ),
        "metadata": {
            "path": "SPEAKERS.TXT", "on": "speaker", "key": "ID", "sep": "|", "comment": ";",
            "columns": ["ID", "sex", "speaker_subset", "minutes", "name"],
        },
        "group": "chapter",
    },
    # path: a TUT / DCASE acoustic-scenes development set (meta.txt: file, scene label,
    # recording location, tab-separated, no header). Add `group_folds: true` to keep each location
    # inside one fold, as the DCASE setups do.
    "tut_scenes": {
        "reader": "manifest",
        "manifest": "meta.txt",
        "columns": ["path", "scene", "location"],
        "group": "location",
    },
    # path: a DESED (DCASE domestic-environment sound event detection) folder: audio/<subset>/*.wav
    # and the strong labels of the validation subset in metadata/validation/validation.tsv (DCASE
    # format: filename, onset, offset, event_label). Detection task: `{label: events, type:
    # detection}`; clip-level auxiliaries: speech_activity and event_activity. Another subset:
    # set `events` to its table and narrow `pattern`.
    "desed": {
        "reader": "pattern",
        "pattern": r"audio/(?P<subset>[^/]+)/[^/]+\.wav$",
        "events": "metadata/validation/validation.tsv",
        "activity": {
            "speech_activity": {"classes": {"speech": ["Speech"]}, "default": "no_speech"},
            "event_activity": {"classes": {"event": ["*"]}, "default": "no_event"},
        },
    },
}


def preset_names() -> list[str]:
    return sorted(PRESETS)


def resolve_dataset(cfg: dict[str, Any]) -> dict[str, Any]:
    """A dataset config with its preset's keys filled in; `reader` becomes the base reader.

    A config whose reader is not a preset comes back unchanged (a copy).
    """
    reader = cfg.get("reader")
    preset = PRESETS.get(reader) if isinstance(reader, str) else None
    if preset is None:
        return dict(cfg)
    merged = copy.deepcopy(preset)
    merged.update({key: value for key, value in cfg.items() if key != "reader"})
    return merged
