"""The demo detection corpus (`demo: {kind: events}`): noise events planted at known times.

Every clip is `CLIP_S` seconds of coloured background noise with zero to `MAX_EVENTS` foreground
events of the demo generators' noise kinds (`burst`, `rain`, `wind`, `knock`, from
`analysis.corpora._demo_audio`), each `EVENT_S` long at an onset on a 10 ms grid; events of one
clip do not overlap. The corpus folder gets `audio/`, `events.tsv` (the DCASE annotation format:
filename, onset, offset, event_label, tab-separated, with a header) and `manifest.csv`, written
last. All random choices are drawn up front from one seeded generator, so the same (n_clips, seed,
sample_rate) gives byte-identical files, and `planted_events` tells tests where each event is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.corpora import _demo_audio as audio
from analysis.io import write_table

logger = logging.getLogger(__name__)

CLIP_S = 2.0
EVENT_S = (0.3, 0.6)
MAX_EVENTS = 2
GRID_S = 0.01
EVENT_SNR_DB = 12.0
BACKGROUND_DB = -30.0
EVENTS_FILE = "events.tsv"


@dataclass(frozen=True)
class PlantedEvent:
    onset: float
    offset: float
    label: str
    seed: int  # of the event's own signal


def _clip_events(rng: np.random.Generator) -> list[PlantedEvent]:
    """Up to MAX_EVENTS non-overlapping events, onsets on the 10 ms grid."""
    events: list[PlantedEvent] = []
    start = 0.05
    for _ in range(int(rng.integers(0, MAX_EVENTS + 1))):
        length = round(float(rng.uniform(*EVENT_S)) / GRID_S) * GRID_S
        latest = CLIP_S - length - 0.05
        if latest <= start:
            break
        onset = round(float(rng.uniform(start, min(latest, start + 0.6))) / GRID_S) * GRID_S
        label = str(rng.choice(audio.NOISE_EVENT_KINDS))
        events.append(PlantedEvent(round(onset, 2), round(onset + length, 2), label,
                                   int(rng.integers(0, 2**31))))
        start = onset + length + 0.1
    return events


def planted_events(n_clips: int, seed: int) -> list[list[PlantedEvent]]:
    """The events of every clip, in clip order (what `generate_event_corpus` renders)."""
    rng = np.random.default_rng(seed)
    return [_clip_events(rng) for _ in range(n_clips)]


def render_event_clip(events: list[PlantedEvent], clip_seed: int, sample_rate: int) -> np.ndarray:
    """Background noise plus every event at its onset (event RMS EVENT_SNR_DB above it)."""
    n = round(CLIP_S * sample_rate)
    rng = np.random.default_rng(clip_seed)
    background = audio.coloured_noise(rng, n, float(rng.uniform(0.0, 2.0)))
    clip = background * 10 ** (BACKGROUND_DB / 20)
    for event in events:
        length = round((event.offset - event.onset) * sample_rate)
        signal = audio.noise_event(event.label, event.seed, length, sample_rate)
        signal = signal / (np.sqrt(np.mean(signal**2)) + 1e-12)
        signal = signal * 10 ** ((BACKGROUND_DB + EVENT_SNR_DB) / 20)
        clip = clip + audio.place(signal, n, round(event.onset * sample_rate), sample_rate)
    return np.clip(clip, -0.98, 0.98)


def _clip_path(index: int) -> str:
    return f"audio/{index:05d}.wav"


def event_table(events: list[list[PlantedEvent]]) -> pd.DataFrame:
    rows = [
        {"filename": _clip_path(i), "onset": e.onset, "offset": e.offset, "event_label": e.label}
        for i, clip in enumerate(events) for e in clip
    ]
    return pd.DataFrame(rows, columns=["filename", "onset", "offset", "event_label"])


def generate_event_corpus(out_dir: str | Path, n_clips: int, seed: int, sample_rate: int) -> None:
    """Render the corpus into `out_dir`: audio/, events.tsv, then manifest.csv (written last)."""
    out = Path(out_dir)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    (out / "manifest.csv").unlink(missing_ok=True)
    events = planted_events(n_clips, seed)
    for index, clip_events in enumerate(events):
        clip = render_event_clip(clip_events, seed * 100_003 + index, sample_rate)
        audio.write_pcm16(out / _clip_path(index), clip, sample_rate)
    event_table(events).to_csv(out / EVENTS_FILE, sep="\t", index=False, float_format="%.3f")
    manifest = pd.DataFrame({
        "path": [_clip_path(i) for i in range(n_clips)],
        "n_events": [str(len(clip)) for clip in events],
    })
    write_table(manifest, out / "manifest.csv")
    logger.info("wrote %d event clips to %s", n_clips, out)
