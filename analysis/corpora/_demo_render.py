"""External renderers of the demo-corpus generator: espeak-ng (speech) and fluidsynth (notes).

Sources are small frozen dataclasses, so identical sources are rendered once and reused.
fluidsynth loads a 140 MB soundfont at every start, so all notes are rendered in a few long
MIDI files (one note or chord per time slot) and cut apart afterwards.
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from analysis.corpora import _demo_audio as audio
from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
FLUIDSYNTH = "fluidsynth"
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")

_TICKS_PER_QUARTER = 480
_TEMPO_US = 500_000  # 120 bpm: 960 ticks per second
_TICKS_PER_S = _TICKS_PER_QUARTER * 1_000_000 // _TEMPO_US
_SLOT_S = 2.0  # spacing of the notes in a batch: a clip (<= 1.5 s) plus a margin
_NOTES_PER_BATCH = 128
_FLUIDSYNTH_GAIN = 0.4


@dataclass(frozen=True)
class Speech:
    voice: str  # espeak-ng voice, e.g. "en-us+m3"
    text: str
    speed: int  # words per minute
    pitch: int  # 0..99


@dataclass(frozen=True)
class Notes:
    program: int  # General MIDI program, 0-based
    keys: tuple[int, ...]  # MIDI note numbers
    velocity: int
    hold_s: float
    step_s: float = 0.0  # onset spacing between keys: 0 plays a chord, > 0 an arpeggio


@dataclass(frozen=True)
class NoiseEvent:
    kind: str
    seed: int


Source = Speech | Notes | NoiseEvent


def require_program(program: str, package: str) -> None:
    if shutil.which(program) is None:
        raise StudyInputError(
            f"the demo corpora need the program '{program}', which is not on PATH: "
            f"install the Debian package '{package}' (apt-get install {package})"
        )


def require_soundfont() -> None:
    if not SOUNDFONT.is_file():
        raise StudyInputError(
            f"the demo corpora need the General MIDI soundfont {SOUNDFONT}: install the Debian "
            "package 'fluid-soundfont-gm' (apt-get install fluid-soundfont-gm)"
        )


def check_tools(sources: Iterable[Source]) -> None:
    """Fail early, before rendering anything, if a program a source needs is missing."""
    kinds = {type(source) for source in sources}
    if Speech in kinds:
        require_program(ESPEAK, "espeak-ng")
    if Notes in kinds:
        require_program(FLUIDSYNTH, "fluidsynth")
        require_soundfont()


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed with exit code {done.returncode}: {done.stderr.strip()}"
        )


def _read_mono(path: Path, sample_rate: int) -> np.ndarray:
    data, file_rate = sf.read(path, dtype="float64", always_2d=True)
    mono = data.mean(axis=1)
    if file_rate != sample_rate:
        divisor = math.gcd(int(file_rate), sample_rate)
        mono = resample_poly(mono, sample_rate // divisor, int(file_rate) // divisor)
    return mono


def render_speech(source: Speech, sample_rate: int, scratch: Path) -> np.ndarray:
    wav = scratch / "speech.wav"
    _run([
        ESPEAK, "-v", source.voice, "-s", str(source.speed), "-p", str(source.pitch),
        "-w", str(wav), source.text,
    ])  # fmt: skip
    return _read_mono(wav, sample_rate)


def _vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


def _slot_events(slot: int, source: Notes) -> Iterator[tuple[int, bytes]]:
    start = slot * round(_SLOT_S * _TICKS_PER_S)
    # All sound off cuts the previous slot's release tail; it lies outside that clip anyway.
    yield start, bytes([0xB0, 120, 0])
    yield start, bytes([0xC0, source.program])
    for index, key in enumerate(source.keys):
        onset = start + round(index * source.step_s * _TICKS_PER_S)
        yield onset, bytes([0x90, key, source.velocity])
    for key in source.keys:
        yield start + round(source.hold_s * _TICKS_PER_S), bytes([0x80, key, 0])


def midi_file(sources: list[Notes]) -> bytes:
    """A format-0 Standard MIDI File playing each source in its own slot on channel 1."""
    events = [event for slot, source in enumerate(sources) for event in _slot_events(slot, source)]
    events.sort(key=lambda event: event[0])  # stable: keeps program change before note on
    track = bytearray(_vlq(0) + bytes([0xFF, 0x51, 0x03]) + _TEMPO_US.to_bytes(3, "big"))
    now = 0
    for tick, message in events:
        track += _vlq(tick - now) + message
        now = tick
    end = len(sources) * round(_SLOT_S * _TICKS_PER_S)
    track += _vlq(end - now) + bytes([0xFF, 0x2F, 0x00])
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, _TICKS_PER_QUARTER)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def _render_batch(sources: list[Notes], sample_rate: int, scratch: Path) -> list[np.ndarray]:
    mid, wav = scratch / "notes.mid", scratch / "notes.wav"
    mid.write_bytes(midi_file(sources))
    # No reverb or chorus, one core, sample-based MIDI timing: the output depends on the input only.
    _run([
        FLUIDSYNTH, "-n", "-i", "-g", str(_FLUIDSYNTH_GAIN), "-R", "0", "-C", "0",
        "-r", str(sample_rate), "-O", "float", "-T", "wav",
        "-o", "synth.cpu-cores=1", "-o", "player.timing-source=sample",
        "-F", str(wav), str(SOUNDFONT), str(mid),
    ])  # fmt: skip
    rendered = _read_mono(wav, sample_rate)
    slot_n = round(_SLOT_S * sample_rate)
    rendered = np.pad(rendered, (0, max(0, slot_n * len(sources) - rendered.size)))
    return [rendered[i * slot_n : (i + 1) * slot_n] for i in range(len(sources))]


def render_notes(
    sources: Iterable[Notes], sample_rate: int, scratch: Path
) -> dict[Notes, np.ndarray]:
    """Render every distinct source once, in batches of fluidsynth runs."""
    unique = list(dict.fromkeys(sources))
    rendered: dict[Notes, np.ndarray] = {}
    for first in range(0, len(unique), _NOTES_PER_BATCH):
        batch = unique[first : first + _NOTES_PER_BATCH]
        rendered.update(zip(batch, _render_batch(batch, sample_rate, scratch)))
    logger.info("rendered %d distinct notes with fluidsynth", len(unique))
    return rendered


class SourceRenderer:
    """Renders sources at one sample rate, each distinct source once until `clear`."""

    def __init__(self, sample_rate: int, clip_n: int, scratch: Path) -> None:
        self.sample_rate = sample_rate
        self.clip_n = clip_n
        self.scratch = scratch
        self._cache: dict[Source, np.ndarray] = {}

    def prerender(self, sources: Iterable[Source]) -> None:
        notes = [source for source in sources if isinstance(source, Notes)]
        if notes:
            self._cache.update(render_notes(notes, self.sample_rate, self.scratch))

    def clear(self) -> None:
        self._cache.clear()

    def __call__(self, source: Source) -> np.ndarray:
        if source not in self._cache:
            self._cache[source] = self._render(source)
        return self._cache[source]

    def _render(self, source: Source) -> np.ndarray:
        if isinstance(source, Speech):
            return render_speech(source, self.sample_rate, self.scratch)
        if isinstance(source, Notes):
            return render_notes([source], self.sample_rate, self.scratch)[source]
        return audio.noise_event(source.kind, source.seed, self.clip_n, self.sample_rate)
