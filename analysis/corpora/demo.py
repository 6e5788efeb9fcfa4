"""Embedded demo corpora: real audio rendered offline, deterministically from a seed.

Four corpora, each written exactly like a user's `reader: manifest` dataset: `OUT/audio/*.wav`
(mono, 16-bit, `sample_rate` Hz, 1 s) and `OUT/manifest.csv` with `path` and one column per label.

- `words`: ten English words by ten espeak-ng speakers. Labels `word`, `speaker`, `gender`.
- `numbers`: digits 0-9 in eight languages (espeak-ng). Labels `language`, `number`.
- `notes`: single General MIDI notes (fluidsynth, FluidR3_GM), eight instrument families.
  Labels `family`, `pitch` (pitch class), `instrument`.
- `mixtures`: music, speech or a noise event over background noise. Labels `class`, `snr_db`.

Every clip gets coloured background noise at a random signal-to-noise ratio and a random level, so
the tasks are learnable but not trivial. Command line:
`python -m analysis.corpora.demo KIND OUT --clips N --seed S`.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from analysis.corpora import _demo_audio as audio
from analysis.corpora._demo_render import SourceRenderer, check_tools
from analysis.corpora._demo_specs import CLIP_S, SPEC_BUILDERS, ClipSpec
from analysis.errors import StudyInputError
from analysis.io import write_table

logger = logging.getLogger(__name__)

DEMO_KINDS: tuple[str, ...] = ("words", "numbers", "notes", "mixtures")
EVENT_KIND = "events"  # the detection corpus, analysis.corpora.demo_events

# Clips are rendered in chunks so memory stays flat however many clips are asked for.
_CHUNK = 128
_MIN_RATE, _MAX_RATE = 8000, 96000  # fluidsynth's range


def _check_kind(kind: str) -> None:
    if kind not in (*DEMO_KINDS, EVENT_KIND):
        raise StudyInputError(
            f"unknown demo corpus kind {kind!r}: choose one of {', '.join(DEMO_KINDS)}"
        )


def _check_arguments(kind: str, n_clips: int, sample_rate: int) -> None:
    _check_kind(kind)
    if n_clips < 1:
        raise StudyInputError(f"a demo corpus needs at least one clip, got n_clips={n_clips}")
    if not _MIN_RATE <= sample_rate <= _MAX_RATE:
        raise StudyInputError(
            f"demo sample_rate must lie in {_MIN_RATE}..{_MAX_RATE} Hz, got {sample_rate}"
        )


def clip_specs(kind: str, n_clips: int, seed: int) -> list[ClipSpec]:
    """All per-clip parameters of a corpus, drawn up front from one generator."""
    _check_kind(kind)
    return SPEC_BUILDERS[kind](np.random.default_rng(seed), n_clips)


def render_clip(spec: ClipSpec, foreground: np.ndarray, sample_rate: int) -> np.ndarray:
    """Foreground at its offset, plus background noise at the clip's SNR, at the clip's level."""
    n = round(CLIP_S * sample_rate)
    onset = audio.trim_leading_silence(foreground, sample_rate)
    placed = audio.place(onset, n, round(spec.offset_s * sample_rate), sample_rate)
    background = audio.coloured_noise(np.random.default_rng(spec.seed), n, spec.noise_beta)
    return audio.set_level(audio.mix_at_snr(placed, background, spec.snr_db), spec.level_db)


def _clip_name(index: int) -> str:
    return f"{index:05d}.wav"


def _render_all(specs: list[ClipSpec], audio_dir: Path, sample_rate: int, progress: bool) -> None:
    with tempfile.TemporaryDirectory(dir=audio_dir.parent, prefix=".scratch-") as scratch:
        renderer = SourceRenderer(sample_rate, round(CLIP_S * sample_rate), Path(scratch))
        bar = tqdm(total=len(specs), desc="demo clips", unit="clip", disable=not progress)
        with bar:
            for first in range(0, len(specs), _CHUNK):
                chunk = specs[first : first + _CHUNK]
                renderer.prerender(spec.source for spec in chunk)
                for index, spec in enumerate(chunk, start=first):
                    clip = render_clip(spec, renderer(spec.source), sample_rate)
                    audio.write_pcm16(audio_dir / _clip_name(index), clip, sample_rate)
                    bar.update()
                renderer.clear()


def _replace_dir(new: Path, target: Path) -> None:
    """Move `new` onto `target`; an old `target` is moved aside first, then deleted."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=".audio-old-"))
        os.replace(target, old / target.name)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old)


def _manifest(specs: list[ClipSpec]) -> pd.DataFrame:
    rows = [{"path": f"audio/{_clip_name(i)}", **spec.labels} for i, spec in enumerate(specs)]
    return pd.DataFrame(rows).astype(str)


def generate_demo_corpus(
    kind: str,
    out_dir: str | Path,
    n_clips: int,
    seed: int,
    sample_rate: int = 16000,
    progress: bool = True,
) -> None:
    """Render the demo corpus `kind` into `out_dir` (`audio/` then `manifest.csv`, written last).

    The same (kind, n_clips, seed, sample_rate) gives byte-identical files. An existing
    `out_dir/audio` and `manifest.csv` are replaced; an interrupted run leaves no manifest.
    """
    _check_arguments(kind, n_clips, sample_rate)
    if kind == EVENT_KIND:
        from analysis.corpora.demo_events import generate_event_corpus

        generate_event_corpus(out_dir, n_clips, seed, sample_rate)
        return
    specs = clip_specs(kind, n_clips, seed)
    check_tools(spec.source for spec in specs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # A manifest left from an older run must not describe the audio written now.
    (out / "manifest.csv").unlink(missing_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".audio-new-"))
    try:
        _render_all(specs, staging, sample_rate, progress)
        _replace_dir(staging, out / "audio")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_table(_manifest(specs), out / "manifest.csv")
    logger.info("wrote %d %s clips to %s", n_clips, kind, out)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m analysis.corpora.demo",
        description="Render an embedded demo corpus (audio/ and manifest.csv) into a folder.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("kind", choices=DEMO_KINDS, help="which corpus")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--clips", type=int, default=240, help="number of clips")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--sample-rate", type=int, default=16000, help="sample rate in Hz")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    generate_demo_corpus(
        args.kind, args.out, args.clips, args.seed, args.sample_rate, progress=not args.quiet
    )


if __name__ == "__main__":
    main()
