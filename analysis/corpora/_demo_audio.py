"""Signal helpers of the demo-corpus generator: noise, foreground noise events, clip assembly.

Everything here is plain numpy/scipy driven by an explicit `np.random.Generator`, so the same seed
gives the same samples.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

NOISE_EVENT_KINDS: tuple[str, ...] = ("burst", "rain", "wind", "knock")

_FADE_S = 0.02
_SILENCE_DB = -40.0
_PEAK_LIMIT = 0.98


def coloured_noise(rng: np.random.Generator, n: int, beta: float) -> np.ndarray:
    """Unit-RMS noise with power spectrum ~ 1/f**beta (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(spectrum.size, dtype=float)
    freqs[0] = 1.0
    noise = np.fft.irfft(spectrum / freqs ** (beta / 2.0), n)
    noise -= _exact_mean(noise)
    return noise / (_rms(noise) + 1e-12)


def _band(
    x: np.ndarray, sample_rate: int, low_hz: float | None, high_hz: float | None
) -> np.ndarray:
    """Butterworth low-, high- or band-pass; edges are clamped below Nyquist."""
    nyquist = 0.5 * sample_rate
    high = None if high_hz is None else min(high_hz, 0.9 * nyquist)
    if low_hz is not None and high is not None:
        sos = signal.butter(4, [low_hz, high], btype="bandpass", fs=sample_rate, output="sos")
    elif low_hz is not None:
        sos = signal.butter(4, low_hz, btype="highpass", fs=sample_rate, output="sos")
    else:
        sos = signal.butter(4, high, btype="lowpass", fs=sample_rate, output="sos")
    return signal.sosfilt(sos, x)


def _decay(n: int, sample_rate: int, tau_s: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (tau_s * sample_rate))


def _burst(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    out = np.zeros(n)
    for _ in range(int(rng.integers(1, 4))):
        length = int(rng.uniform(0.1, 0.4) * sample_rate)
        start = int(rng.integers(0, max(1, n - length)))
        attack = np.minimum(1.0, np.arange(length) / (0.01 * sample_rate))
        env = attack * _decay(length, sample_rate, rng.uniform(0.05, 0.2))
        piece = coloured_noise(rng, length, rng.uniform(0.0, 2.0)) * env
        out[start : start + length] += piece[: n - start]
    return out


def _rain(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    impulses = np.zeros(n)
    count = rng.poisson(rng.uniform(20, 80) * n / sample_rate)
    impulses[rng.integers(0, n, size=count)] = rng.uniform(0.3, 1.0, size=count)
    click_n = int(0.005 * sample_rate)
    click = rng.standard_normal(click_n) * _decay(click_n, sample_rate, 0.0015)
    drops = signal.fftconvolve(impulses, click)[:n]
    return _band(drops, sample_rate, rng.uniform(800, 1500), rng.uniform(4000, 7000))


def _wind(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    noise = _band(rng.standard_normal(n), sample_rate, 80.0, rng.uniform(400, 1200))
    # A few random control points, smoothly interpolated: slow gusts.
    points = rng.uniform(0.1, 1.0, size=6)
    gusts = np.interp(np.linspace(0, 5, n), np.arange(6), points)
    return noise * gusts


def _knock(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    out = np.zeros(n)
    hit_n = int(0.12 * sample_rate)
    hit = _band(rng.standard_normal(hit_n), sample_rate, None, rng.uniform(600, 2500))
    hit *= _decay(hit_n, sample_rate, rng.uniform(0.01, 0.04))
    start = int(rng.uniform(0.0, 0.15) * sample_rate)
    for _ in range(int(rng.integers(2, 6))):
        if start >= n:
            break
        out[start : start + hit_n] += hit[: n - start] * rng.uniform(0.5, 1.0)
        start += int(rng.uniform(0.1, 0.25) * sample_rate)
    return out


_EVENT_MAKERS = {"burst": _burst, "rain": _rain, "wind": _wind, "knock": _knock}


def noise_event(kind: str, seed: int, n: int, sample_rate: int) -> np.ndarray:
    """A non-stationary, non-harmonic foreground sound (the `noise` class of the mixtures)."""
    return _EVENT_MAKERS[kind](np.random.default_rng(seed), n, sample_rate)


def trim_leading_silence(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Drop everything before the first sample within 40 dB of the peak (keeping 5 ms)."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak == 0.0:
        return x
    first = int(np.argmax(np.abs(x) >= peak * 10 ** (_SILENCE_DB / 20)))
    return x[max(0, first - int(0.005 * sample_rate)) :]


def place(x: np.ndarray, n: int, offset: int, sample_rate: int) -> np.ndarray:
    """Put `x` at `offset` in `n` zeros; a sound cut at the end gets a short fade-out."""
    out = np.zeros(n)
    room = n - offset
    piece = x[:room].copy()
    if x.size > room:
        fade = min(piece.size, int(_FADE_S * sample_rate))
        piece[piece.size - fade :] *= np.linspace(1.0, 0.0, fade)
    out[offset : offset + piece.size] = piece
    return out


def _exact_mean(x: np.ndarray) -> float:
    # numpy's SIMD sums may differ in the last bit between calls (memory alignment), which moves
    # samples across a 16-bit rounding boundary; an exactly rounded sum keeps the bytes stable.
    return math.fsum(x.tolist()) / x.size if x.size else 0.0


def _rms(x: np.ndarray) -> float:
    return math.sqrt(_exact_mean(x * x))


def mix_at_snr(foreground: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """foreground + background scaled so that the power ratio over the clip is `snr_db`."""
    fg_rms = _rms(foreground)
    if fg_rms == 0.0:
        return background
    scale = fg_rms / (_rms(background) * 10 ** (snr_db / 20))
    return foreground + background * scale


def set_level(x: np.ndarray, level_db: float) -> np.ndarray:
    """Scale to an RMS of `level_db` dBFS, then down again if that would clip."""
    y = x * (10 ** (level_db / 20) / (_rms(x) + 1e-12))
    peak = float(np.max(np.abs(y)))
    return y * (_PEAK_LIMIT / peak) if peak > _PEAK_LIMIT else y


def write_pcm16(path: Path, x: np.ndarray, sample_rate: int) -> None:
    """Write mono 16-bit wav; quantised here so the bytes depend on nothing but `x`."""
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
    sf.write(path, pcm, sample_rate, subtype="PCM_16", format="WAV")
