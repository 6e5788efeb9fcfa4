"""Feature extractors: one clip's mono signal -> a summary vector or a (frames, bands) matrix.

Extractors are registered in `EXTRACTORS` by the name the config's `features.extractor` uses. Each
one says how to resolve its parameters (defaults filled, values checked), how to name its outputs
and how to compute them, so the extraction driver (`analysis.features.extract`) stays generic.

- `summary` extractors return a 1-d vector per clip (`logfbank_summary`);
- `frames` extractors return a (n_frames, n_bands) matrix per clip (`logmel_patches`, `mfcc`), which
  `analysis.features.preparation` cuts, pads or windows to a fixed size.

Resolved parameters hold only the user-facing keys (defaults filled, numbers normalised), so
resolving them again gives the same dict: the workflow records them as the rule's params and a
change of any of them, and only that, reruns the extraction.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

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
    kind: Literal["summary", "frames"]
    resolve: ResolveParams  # (user params, sample_rate) -> all params, defaults filled and checked
    feature_names: FeatureNames  # resolved params -> one name per value (summary) or per band (frames)
    compute: ComputeFeatures  # (mono float32 signal, sample_rate, resolved params) -> (n,) or (frames, bands)


def get_extractor(name: str) -> Extractor:
    """The registered extractor called `name`, or a StudyInputError listing the known ones."""
    try:
        return EXTRACTORS[name]
    except KeyError:
        raise StudyInputError(
            f"features.extractor: unknown extractor {name!r}; use one of {sorted(EXTRACTORS)}."
        ) from None


# Frame-level building blocks --------------------------------------------------------------------


@lru_cache(maxsize=32)
def frame_sizes(sample_rate: int, win_ms: float, hop_ms: float) -> tuple[int, int, int]:
    """(win_length, hop_length, n_fft) in samples; n_fft is the next power of two >= the window."""
    win_length = max(1, int(round(win_ms * sample_rate / 1000.0)))
    hop_length = max(1, int(round(hop_ms * sample_rate / 1000.0)))
    n_fft = 1 << (win_length - 1).bit_length()
    return win_length, hop_length, n_fft


def geometry(params: dict[str, Any], sample_rate: int) -> tuple[int, int, int]:
    """(win_length, hop_length, n_fft) of resolved frame parameters."""
    return frame_sizes(int(sample_rate), float(params["win_ms"]), float(params["hop_ms"]))


def samples_for_frames(frames: int, params: dict[str, Any], sample_rate: int) -> int:
    """Signal length in samples that gives exactly `frames` frames (frames start 0, hop, 2 hop...)."""
    _, hop_length, n_fft = geometry(params, sample_rate)
    return (frames - 1) * hop_length + n_fft


def frames_for_samples(n_samples: int, params: dict[str, Any], sample_rate: int) -> int:
    """Frames a signal of `n_samples` gives (at least one: a shorter signal is zero-padded)."""
    _, hop_length, n_fft = geometry(params, sample_rate)
    return 1 + max(0, n_samples - n_fft) // hop_length


def pad_to(signal: np.ndarray, length: int) -> np.ndarray:
    """Zero-pad `signal` at the end to at least `length` samples (a clip shorter than one window)."""
    if signal.shape[0] >= length:
        return signal
    return np.pad(signal, (0, length - signal.shape[0]))


@lru_cache(maxsize=32)
def mel_basis(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """librosa's (Slaney-normalised) mel filter bank, transposed: shape (n_fft // 2 + 1, n_mels)."""
    import librosa

    basis = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, dtype=np.float64
    )
    basis = np.ascontiguousarray(basis.T)
    basis.setflags(write=False)
    return basis


@lru_cache(maxsize=32)
def analysis_window(win_length: int, n_fft: int) -> np.ndarray:
    """librosa.stft's window: a periodic hann of win_length samples centred in n_fft samples."""
    import librosa

    window = librosa.util.pad_center(librosa.filters.get_window("hann", win_length, fftbins=True), size=n_fft)
    window.setflags(write=False)
    return window


def power_spectrogram(signal: np.ndarray, sample_rate: int, params: dict[str, Any]) -> np.ndarray:
    """|STFT|^2, shape (n_frames, n_fft // 2 + 1), float64; librosa.stft(center=False) framing.

    Frames start at 0, hop_length apart, each n_fft samples with the win_length hann window in the
    middle; a signal shorter than n_fft is zero-padded to one frame. Framing is a strided view and
    one rfft call per clip: the same numbers as librosa.stft without its per-call overhead
    (`benchmarks/spectrogram.py`: 0.48 ms against librosa.stft's 0.84 ms per 1 s clip, 1.75x).
    """
    win_length, hop_length, n_fft = geometry(params, sample_rate)
    y = pad_to(np.asarray(signal, dtype=np.float32), n_fft)
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop_length]  # (n_frames, n_fft)
    spectrum = np.fft.rfft(frames * analysis_window(win_length, n_fft), axis=1)
    return spectrum.real**2 + spectrum.imag**2


def log_mel_frames(signal: np.ndarray, sample_rate: int, params: dict[str, Any]) -> np.ndarray:
    """Natural log of mel filter-bank energies plus `log_floor`: shape (n_frames, n_mels), float64."""
    _, _, n_fft = geometry(params, sample_rate)
    basis = mel_basis(int(sample_rate), n_fft, params["n_mels"], params["fmin"], params["fmax"])
    return np.log(power_spectrogram(signal, sample_rate, params) @ basis + params["log_floor"])


# Summaries over frames ----------------------------------------------------------------------------

#: Statistics of `logfbank_summary`, in output order (statistic-major: all bands of `mean`, then ...).
SUMMARY_STATS: tuple[str, ...] = ("mean", "std", "min", "max", "median", "p25", "p75")


def summarise_frames(frames: np.ndarray) -> np.ndarray:
    """Per column of a (frames, bands) matrix: mean, std (population), min, max, median, 25th, 75th
    percentile (linear interpolation); concatenated statistic-major to shape (bands * 7,)."""
    p25, median, p75 = np.percentile(frames, [25.0, 50.0, 75.0], axis=0)
    stats = [frames.mean(axis=0), frames.std(axis=0), frames.min(axis=0), frames.max(axis=0), median, p25, p75]
    return np.concatenate(stats).astype(np.float32)


# Parameters ---------------------------------------------------------------------------------------

def resolve_mel_params(
    name: str, params: dict[str, Any], defaults: dict[str, Any], sample_rate: int
) -> dict[str, Any]:
    """Fill `defaults`, reject unknown keys, check the mel keys and cap `fmax` at the Nyquist rate."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise StudyInputError(
            f"features.params: unknown parameter(s) {unknown} for extractor {name!r}; "
            f"it accepts {sorted(defaults)}."
        )
    resolved = {**defaults, **{k: v for k, v in params.items() if v is not None}}
    check_number("n_mels", resolved["n_mels"], minimum=1, integer=True)
    for key in ("win_ms", "hop_ms", "log_floor"):
        check_number(key, resolved[key], minimum=0, exclusive=True)
    check_number("fmin", resolved["fmin"], minimum=0)
    nyquist = sample_rate / 2.0
    fmax = nyquist if resolved["fmax"] is None else resolved["fmax"]
    check_number("fmax", fmax, minimum=0, exclusive=True)
    if fmax > nyquist:
        logger.warning("features.params.fmax = %s is above the Nyquist rate; using %s Hz", fmax, nyquist)
        fmax = nyquist
    if resolved["fmin"] >= fmax:
        raise StudyInputError(
            f"features.params.fmin ({resolved['fmin']} Hz) must be below fmax ({fmax} Hz at "
            f"sample_rate {sample_rate}); lower fmin."
        )
    resolved.update(
        n_mels=int(resolved["n_mels"]),
        win_ms=float(resolved["win_ms"]),
        hop_ms=float(resolved["hop_ms"]),
        fmin=float(resolved["fmin"]),
        fmax=float(fmax),
        log_floor=float(resolved["log_floor"]),
    )
    return resolved


def check_number(
    key: str,
    value: Any,
    minimum: float,
    exclusive: bool = False,
    integer: bool = False,
    prefix: str = "features.params",
) -> None:
    """Raise a StudyInputError naming `prefix.key` unless `value` is a finite number above `minimum`."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if ok:
        ok = value > minimum if exclusive else value >= minimum
    if not ok:
        kind = "a whole number" if integer else "a number"
        relation = ">" if exclusive else ">="
        raise StudyInputError(f"{prefix}.{key} must be {kind} {relation} {minimum} (got {value!r}).")


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
    return resolve_mel_params("logfbank_summary", params, LOGFBANK_DEFAULTS, sample_rate)


def logfbank_names(params: dict[str, Any]) -> list[str]:
    return [f"logmel_{stat}_{band:02d}" for stat in SUMMARY_STATS for band in range(params["n_mels"])]


def logfbank_summary(signal: np.ndarray, sample_rate: int, params: dict[str, Any]) -> np.ndarray:
    """Log mel filter-bank energies summarised over frames per band (n_mels * 7 values)."""
    return summarise_frames(log_mel_frames(signal, sample_rate, params))


# logmel_patches (Tagliasacchi et al. 2020) --------------------------------------------------------

LOGMEL_DEFAULTS: dict[str, Any] = {
    "n_mels": 64,
    "win_ms": 25.0,
    "hop_ms": 10.0,
    "fmin": 60.0,
    "fmax": 7800.0,
    "log_floor": 0.001,
}


def resolve_logmel(params: dict[str, Any], sample_rate: int) -> dict[str, Any]:
    return resolve_mel_params("logmel_patches", params, LOGMEL_DEFAULTS, sample_rate)


def logmel_names(params: dict[str, Any]) -> list[str]:
    return [f"logmel_{band:02d}" for band in range(params["n_mels"])]


def logmel_patches(signal: np.ndarray, sample_rate: int, params: dict[str, Any]) -> np.ndarray:
    """Log mel energies per frame, (n_frames, n_mels) float32; preparation cuts them into patches."""
    return log_mel_frames(signal, sample_rate, params).astype(np.float32)


# mfcc with deltas -----------------------------------------------------------------------------------

MFCC_DEFAULTS: dict[str, Any] = {
    "n_mfcc": 13,
    "n_mels": 40,
    "win_ms": 25.0,
    "hop_ms": 10.0,
    "fmin": 0.0,
    "fmax": None,
    "log_floor": 1e-10,
    "deltas": 2,  # 0: MFCC only; 1: + deltas; 2: + deltas and delta-deltas
    "delta_width": 9,
}


def resolve_mfcc(params: dict[str, Any], sample_rate: int) -> dict[str, Any]:
    resolved = resolve_mel_params("mfcc", params, MFCC_DEFAULTS, sample_rate)
    check_number("n_mfcc", resolved["n_mfcc"], minimum=1, integer=True)
    if resolved["n_mfcc"] > resolved["n_mels"]:
        raise StudyInputError(
            f"features.params.n_mfcc ({resolved['n_mfcc']}) cannot exceed features.params.n_mels "
            f"({resolved['n_mels']}); lower n_mfcc or raise n_mels."
        )
    if resolved["deltas"] not in (0, 1, 2) or isinstance(resolved["deltas"], bool):
        raise StudyInputError(
            f"features.params.deltas must be 0 (MFCC only), 1 (with deltas) or 2 (with deltas and "
            f"delta-deltas) (got {resolved['deltas']!r})."
        )
    check_number("delta_width", resolved["delta_width"], minimum=3, integer=True)
    if int(resolved["delta_width"]) % 2 == 0:
        raise StudyInputError(
            f"features.params.delta_width must be odd (got {resolved['delta_width']}); use e.g. 9."
        )
    resolved.update(
        n_mfcc=int(resolved["n_mfcc"]), deltas=int(resolved["deltas"]), delta_width=int(resolved["delta_width"])
    )
    return resolved


def mfcc_names(params: dict[str, Any]) -> list[str]:
    prefixes = ("mfcc", "delta_mfcc", "delta2_mfcc")[: params["deltas"] + 1]
    return [f"{prefix}_{i:02d}" for prefix in prefixes for i in range(params["n_mfcc"])]


def mfcc(signal: np.ndarray, sample_rate: int, params: dict[str, Any]) -> np.ndarray:
    """MFCC per frame (orthonormal DCT-II of the log mel energies), then their deltas and
    delta-deltas (librosa.feature.delta: Savitzky-Golay over `delta_width` frames, edge frames
    repeated, so any clip length works): (n_frames, n_mfcc * (1 + deltas)) float32."""
    import librosa
    import scipy.fft

    log_mel = log_mel_frames(signal, sample_rate, params)  # (n_frames, n_mels)
    # librosa.feature.mfcc(S=...) is this DCT on a (bands, frames) layout; this keeps frames first.
    coefficients = scipy.fft.dct(log_mel, type=2, norm="ortho", axis=1)[:, : params["n_mfcc"]]
    blocks = [coefficients]
    for order in range(1, params["deltas"] + 1):
        blocks.append(
            librosa.feature.delta(coefficients, width=params["delta_width"], order=order, axis=0, mode="nearest")
        )
    return np.concatenate(blocks, axis=1).astype(np.float32)


EXTRACTORS: dict[str, Extractor] = {
    "logfbank_summary": Extractor("logfbank_summary", "summary", resolve_logfbank, logfbank_names, logfbank_summary),
    "logmel_patches": Extractor("logmel_patches", "frames", resolve_logmel, logmel_names, logmel_patches),
    "mfcc": Extractor("mfcc", "frames", resolve_mfcc, mfcc_names, mfcc),
}
