"""What each demo corpus contains: the label vocabularies and the per-clip parameters.

All random choices of a corpus are drawn here, up front, from one seeded generator, so rendering
order and machine load cannot change them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from analysis.corpora._demo_audio import NOISE_EVENT_KINDS
from analysis.corpora._demo_render import NoiseEvent, Notes, Source, Speech

CLIP_S = 1.0
MAX_OFFSET_S = 0.15
LEVEL_DB = (-32.0, -14.0)  # clip RMS in dBFS
NOISE_BETA = (0.0, 2.0)  # background noise colour: white .. brown

WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
SNR_LEVELS_DB = (-5, 0, 5, 10, 15, 20)
MIXTURE_CLASSES = ("music", "speech", "noise")


@dataclass(frozen=True)
class Speaker:
    name: str
    voice: str
    gender: str
    pitch: int
    speed: int


SPEAKERS = (
    Speaker("spk01", "en-us+m1", "male", 35, 150),
    Speaker("spk02", "en-gb+m2", "male", 50, 170),
    Speaker("spk03", "en-us+m3", "male", 42, 135),
    Speaker("spk04", "en-gb-scotland+m4", "male", 30, 160),
    Speaker("spk05", "en-us+m7", "male", 55, 185),
    Speaker("spk06", "en-us+f1", "female", 55, 150),
    Speaker("spk07", "en-gb+f2", "female", 65, 170),
    Speaker("spk08", "en-us+f3", "female", 48, 140),
    Speaker("spk09", "en-gb-x-rp+f4", "female", 70, 160),
    Speaker("spk10", "en-us+f5", "female", 60, 180),
)

# label -> espeak-ng voice
LANGUAGES = {
    "en": "en-us", "de": "de", "fr": "fr-fr", "es": "es",
    "it": "it", "nl": "nl", "pt": "pt", "sv": "sv",
}  # fmt: skip

ENGLISH_PHRASES = (
    "good morning", "thank you", "open the door", "where is it", "see you later",
    "not today", "turn it off", "how are you", "come here", "that is fine",
)  # fmt: skip


@dataclass(frozen=True)
class Instrument:
    name: str
    program: int  # General MIDI, 0-based
    low: int  # playable MIDI key range, at least an octave
    high: int


INSTRUMENTS: dict[str, tuple[Instrument, ...]] = {
    "piano": (
        Instrument("acoustic_grand", 0, 36, 84), Instrument("bright_piano", 1, 36, 84),
        Instrument("electric_piano", 4, 36, 84), Instrument("harpsichord", 6, 41, 84),
    ),
    "mallet": (
        Instrument("celesta", 8, 60, 96), Instrument("vibraphone", 11, 53, 89),
        Instrument("marimba", 12, 48, 84), Instrument("xylophone", 13, 65, 96),
    ),
    "organ": (
        Instrument("drawbar_organ", 16, 36, 84), Instrument("percussive_organ", 17, 36, 84),
        Instrument("church_organ", 19, 36, 84), Instrument("accordion", 21, 53, 89),
    ),
    "guitar": (
        Instrument("nylon_guitar", 24, 40, 76), Instrument("steel_guitar", 25, 40, 76),
        Instrument("jazz_guitar", 26, 40, 76), Instrument("clean_guitar", 27, 40, 76),
    ),
    "strings": (
        Instrument("violin", 40, 55, 91), Instrument("viola", 41, 48, 84),
        Instrument("cello", 42, 36, 72), Instrument("string_ensemble", 48, 36, 84),
    ),
    "brass": (
        Instrument("trumpet", 56, 55, 82), Instrument("trombone", 57, 40, 72),
        Instrument("french_horn", 60, 41, 77), Instrument("brass_section", 61, 48, 80),
    ),
    "reed": (
        Instrument("alto_sax", 65, 49, 80), Instrument("oboe", 68, 58, 91),
        Instrument("bassoon", 70, 34, 72), Instrument("clarinet", 71, 50, 91),
    ),
    "pipe": (
        Instrument("piccolo", 72, 74, 102), Instrument("flute", 73, 60, 96),
        Instrument("recorder", 74, 60, 96), Instrument("pan_flute", 75, 60, 96),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class ClipSpec:
    """Everything needed to render one clip; `seed` drives its background noise."""

    labels: dict[str, str]
    source: Source
    snr_db: float  # foreground to background noise, power over the clip
    level_db: float
    noise_beta: float
    offset_s: float
    seed: int


def balanced(rng: np.random.Generator, n: int, values: Sequence[str]) -> list[str]:
    """`n` labels, every value `n // len(values)` or one more times, in random order."""
    return [values[i] for i in rng.permutation(np.arange(n) % len(values))]


def _clip(
    rng: np.random.Generator, labels: dict[str, str], source: Source, snr_db: float
) -> ClipSpec:
    return ClipSpec(
        labels=labels,
        source=source,
        snr_db=snr_db,
        level_db=float(rng.uniform(*LEVEL_DB)),
        noise_beta=float(rng.uniform(*NOISE_BETA)),
        offset_s=float(rng.uniform(0.0, MAX_OFFSET_S)),
        seed=int(rng.integers(2**32)),
    )


def words_specs(rng: np.random.Generator, n: int) -> list[ClipSpec]:
    words = balanced(rng, n, WORDS)
    speakers = balanced(rng, n, [speaker.name for speaker in SPEAKERS])
    by_name = {speaker.name: speaker for speaker in SPEAKERS}
    specs = []
    for word, name in zip(words, speakers):
        speaker = by_name[name]
        pitch = int(np.clip(round(speaker.pitch + rng.normal(0.0, 6.0)), 0, 99))
        speed = round(speaker.speed * rng.uniform(0.88, 1.12))
        source = Speech(speaker.voice, word, speed, pitch)
        labels = {"word": word, "speaker": name, "gender": speaker.gender}
        specs.append(_clip(rng, labels, source, float(rng.uniform(0.0, 20.0))))
    return specs


def numbers_specs(rng: np.random.Generator, n: int) -> list[ClipSpec]:
    languages = balanced(rng, n, list(LANGUAGES))
    numbers = balanced(rng, n, [str(number) for number in range(10)])
    specs = []
    for language, number in zip(languages, numbers):
        voice = f"{LANGUAGES[language]}+{rng.choice(VARIANTS)}"
        source = Speech(voice, number, int(rng.integers(130, 191)), int(rng.integers(25, 76)))
        labels = {"language": language, "number": number}
        specs.append(_clip(rng, labels, source, float(rng.uniform(0.0, 20.0))))
    return specs


def _key_of_class(rng: np.random.Generator, instrument: Instrument, pitch_class: int) -> int:
    keys = [key for key in range(instrument.low, instrument.high + 1) if key % 12 == pitch_class]
    return int(rng.choice(keys))


def notes_specs(rng: np.random.Generator, n: int) -> list[ClipSpec]:
    families = balanced(rng, n, list(INSTRUMENTS))
    pitches = balanced(rng, n, PITCH_CLASSES)
    # Within a family, cycle through its instruments so they are balanced too.
    seen = dict.fromkeys(INSTRUMENTS, 0)
    specs = []
    for family, pitch in zip(families, pitches):
        members = INSTRUMENTS[family]
        instrument = members[seen[family] % len(members)]
        seen[family] += 1
        key = _key_of_class(rng, instrument, PITCH_CLASSES.index(pitch))
        source = Notes(instrument.program, (key,), int(rng.integers(60, 121)),
                       round(float(rng.uniform(0.5, 0.9)), 3))  # fmt: skip
        labels = {"family": family, "pitch": pitch, "instrument": instrument.name}
        specs.append(_clip(rng, labels, source, float(rng.uniform(0.0, 20.0))))
    return specs


def _music(rng: np.random.Generator) -> Notes:
    instrument = INSTRUMENTS[rng.choice(list(INSTRUMENTS))][int(rng.integers(4))]
    root = int(rng.integers(instrument.low, instrument.high - 6))
    third = 4 if rng.random() < 0.5 else 3
    keys = (root, root + third, root + 7)[: int(rng.integers(1, 4))]
    step = 0.0 if rng.random() < 0.5 else round(float(rng.uniform(0.12, 0.25)), 3)
    return Notes(instrument.program, keys, int(rng.integers(60, 121)), 0.7, step)


def _speech(rng: np.random.Generator) -> Speech:
    language = str(rng.choice(["en", "en", "de", "fr", "es", "it"]))
    if language == "en":
        text = str(rng.choice(ENGLISH_PHRASES))
    else:
        text = " ".join(str(digit) for digit in rng.integers(0, 10, size=2))
    voice = f"{LANGUAGES[language]}+{rng.choice(VARIANTS)}"
    return Speech(voice, text, int(rng.integers(150, 201)), int(rng.integers(25, 76)))


def _noise(rng: np.random.Generator) -> NoiseEvent:
    return NoiseEvent(str(rng.choice(NOISE_EVENT_KINDS)), int(rng.integers(2**32)))


_FOREGROUNDS: dict[str, Callable[[np.random.Generator], Source]] = {
    "music": _music, "speech": _speech, "noise": _noise,
}  # fmt: skip


def mixtures_specs(rng: np.random.Generator, n: int) -> list[ClipSpec]:
    classes = balanced(rng, n, MIXTURE_CLASSES)
    snrs = balanced(rng, n, [str(snr) for snr in SNR_LEVELS_DB])
    specs = []
    for label, snr in zip(classes, snrs):
        source = _FOREGROUNDS[label](rng)
        specs.append(_clip(rng, {"class": label, "snr_db": snr}, source, float(snr)))
    return specs


SPEC_BUILDERS: dict[str, Callable[[np.random.Generator, int], list[ClipSpec]]] = {
    "words": words_specs,
    "numbers": numbers_specs,
    "notes": notes_specs,
    "mixtures": mixtures_specs,
}
