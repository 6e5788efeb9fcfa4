"""Feature extractors: one clip's mono signal -> one fixed-size float32 vector.

Extractors are registered in `EXTRACTORS` by the name the config's `features.extractor` uses. Each
one says how to resolve its parameters (defaults filled, values checked), how to name its features
and how to compute them, so the extraction driver (`analysis.features.extract`) stays generic and
"logmel_patches" or "mfcc" can be added beside `logfbank_summary` without touching it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

ResolveParams = Callable[[dict[str, Any], int], dict[str, Any]]
FeatureNames = Callable[[dict[str, Any]], list[str]]
ComputeFeatures = Callable[[np.ndarray, int, dict[str, Any]], np.ndarray]


@dataclass(frozen=True)
class Extractor:
    """A registered feature extractor."""

    name: str
    resolve: ResolveParams  # (user params, sample_rate) -> all params, defaults filled and checked
    feature_names: FeatureNames  # resolved params -> one name per output value
    compute: ComputeFeatures  # (mono float32 signal, sample_rate, resolved params) -> 1-d float32


def get_extractor(name: str) -> Extractor:
    """The registered extractor called `name`, or a StudyInputError listing the known ones."""
    try:
        return EXTRACTORS[name]
    except KeyError:
        raise StudyInputError(
            f"features.extractor: unknown extractor {name!r}; use one of {sorted(EXTRACTORS)}."
        ) from None


# Frame-level building blocks --------------------------------------------------------------------


def frame_sizes(sample_rate: int, win_ms: float, hop_ms: float) -> tuple[int, int, int]:
    """(win_length, hop_length, n_fft) in samples; n_fft is the next power of two >= the window."""
    win_length = max(1, int(round(win_ms * sample_rate / 1000.0)))
    hop_length = max(1, int(round(hop_ms * sample_rate / 1000.0)))
    n_fft = 1 << (win_length - 1).bit_length()
    return win_length, hop_length, n_fft


def pad_to(signal: np.ndarray, length: int) -> np.ndarray:
    """Zero-pad `signal` at the end to at least `length` samples (a clip shorter than one window)."""
    if signal.shape[0] >= length:
        return signal
    return np.pad(signal, (0, length - signal.shape[0]))


@lru_cache(maxsize=32)
def mel_basis(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """librosa's (Slaney-normalised) mel filter bank, shape (n_mels, n_fft // 2 + 1), float64."""
    import librosa

    basis = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, dtype=np.float64
    )
    basis.setflags(write=False)
    return basis


def log_mel_frames(signal: np.ndarray, sample_rate: int, params: dict[str, Any]) -> np.ndarray:
    """Log mel filter-bank energies, shape (n_mels, n_frames): hann window, no centring, power 2.

    Frames start at 0, hop_length apart, each n_fft samples with the win_length hann window in the
    middle; a signal shorter than n_fft is zero-padded to one frame.
    """
    import librosa

    n_fft = params["n_fft"]
    y = pad_to(np.asarray(signal, dtype=np.float32), n_fft)
    spectrum = librosa.stft(
        y, n_fft=n_fft, hop_length=params["hop_length"], win_length=params["win_length"],
        window="hann", center=False,
    )
    power = np.abs(spectrum.astype(np.complex128)) ** 2
    basis = mel_basis(sample_rate, n_fft, params["n_mels"], float(params["fmin"]), float(params["fmax"]))
    return np.log(basis @ power + params["log_floor"])


# Summaries over frames ----------------------------------------------------------------------------

#: Statistics of `logfbank_summary`, in output order (statistic-major: all bands of `mean`, then ...).
SUMMARY_STATS: tuple[str, ...] = ("mean", "std", "min", "max", "median", "p25", "p75")


def summarise_frames(frames: np.ndarray) -> np.ndarray:
    """Per row of a (bands, frames) matrix: mean, std (population), min, max, median, 25th, 75th
    percentile (linear interpolation); concatenated statistic-major to shape (bands * 7,)."""
    p25, median, p75 = np.percentile(frames, [25.0, 50.0, 75.0], axis=1)
    stats = [
        frames.mean(axis=1),
        frames.std(axis=1),
        frames.min(axis=1),
        frames.max(axis=1),
        median,
        p25,
        p75,
    ]
    return np.concatenate(stats).astype(np.float32)


# logfbank_summary (Georgiev et al. 2017) ----------------------------------------------------------

LOGFBANK_DEFAULTS: dict[str, Any] = {
    "n_mels": 24,
    "win_ms": 25.0,
    "hop_ms": 10.0,
    "fmin": 0.0,
    "fmax": None,  # None: sample_rate / 2
    "log_floor": 1e-10,
}


def resolve_logfbank(params: dict[str, Any], sample_rate: int) -> dict[str, Any]:
    """Fill defaults, check values, cap `fmax` at the Nyquist rate and add the frame sizes."""
    name = "logfbank_summary"
    unknown = sorted(set(params) - set(LOGFBANK_DEFAULTS))
    if unknown:
        raise StudyInputError(
            f"features.params: unknown parameter(s) {unknown} for extractor {name!r}; "
            f"it accepts {sorted(LOGFBANK_DEFAULTS)}."
        )
    resolved = {**LOGFBANK_DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
    _check_number("n_mels", resolved["n_mels"], minimum=1, integer=True)
    for key in ("win_ms", "hop_ms", "log_floor"):
        _check_number(key, resolved[key], minimum=0, exclusive=True)
    _check_number("fmin", resolved["fmin"], minimum=0)
    nyquist = sample_rate / 2.0
    fmax = nyquist if resolved["fmax"] is None else resolved["fmax"]
    _check_number("fmax", fmax, minimum=0, exclusive=True)
    if fmax > nyquist:
        logger.warning("features.params.fmax = %s is above the Nyquist rate; using %s Hz", fmax, nyquist)
        fmax = nyquist
    if resolved["fmin"] >= fmax:
        raise StudyInputError(
            f"features.params.fmin ({resolved['fmin']} Hz) must be below fmax ({fmax} Hz at "
            f"sample_rate {sample_rate}); lower fmin."
        )
    win_length, hop_length, n_fft = frame_sizes(sample_rate, float(resolved["win_ms"]), float(resolved["hop_ms"]))
    resolved.update(
        n_mels=int(resolved["n_mels"]),
        win_ms=float(resolved["win_ms"]),
        hop_ms=float(resolved["hop_ms"]),
        fmin=float(resolved["fmin"]),
        fmax=float(fmax),
        log_floor=float(resolved["log_floor"]),
        win_length=win_length,
        hop_length=hop_length,
        n_fft=n_fft,
    )
    return resolved


def logfbank_names(params: dict[str, Any]) -> list[str]:
    return [f"logmel_{stat}_{band:02d}" for stat in SUMMARY_STATS for band in range(params["n_mels"])]


def logfbank_summary(signal: np.ndarray, sample_rate: int, params: dict[str, Any]) -> np.ndarray:
    """Log mel filter-bank energies summarised over frames per band (n_mels * 7 values)."""
    return summarise_frames(log_mel_frames(signal, sample_rate, params))


def _check_number(key: str, value: Any, minimum: float, exclusive: bool = False, integer: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if ok:
        ok = value > minimum if exclusive else value >= minimum
    if not ok:
        kind = "a whole number" if integer else "a number"
        relation = ">" if exclusive else ">="
        raise StudyInputError(f"features.params.{key} must be {kind} {relation} {minimum} (got {value!r}).")


EXTRACTORS: dict[str, Extractor] = {
    "logfbank_summary": Extractor("logfbank_summary", resolve_logfbank, logfbank_names, logfbank_summary),
}
