"""Power spectrogram per clip: the extractors' strided rfft against `librosa.stft`.

`analysis.features.extractors.power_spectrogram` frames a clip as librosa.stft(center=False) does
and computes the same numbers; this prints the time per clip of both (median over rounds, one
process, BLAS and FFT single-threaded) and their ratio, the figure quoted beside the function.

    .venv/bin/python benchmarks/spectrogram.py [--seconds 1.0] [--clips 200] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import librosa
import numpy as np
from threadpoolctl import threadpool_limits

from analysis.features.extractors import geometry, power_spectrogram

SAMPLE_RATE = 16000
PARAMS = {"win_ms": 25, "hop_ms": 10}


def with_librosa(signal: np.ndarray) -> np.ndarray:
    win_length, hop_length, n_fft = geometry(PARAMS, SAMPLE_RATE)
    stft = librosa.stft(
        signal, n_fft=n_fft, hop_length=hop_length, win_length=win_length, center=False
    )
    return (np.abs(stft) ** 2).T


def seconds_per_clip(function, clips: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for clip in clips:
        function(clip)
    return (time.perf_counter() - start) / len(clips)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="clip length")
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = round(args.seconds * SAMPLE_RATE)
    clips = [rng.standard_normal(n).astype(np.float32) for _ in range(args.clips)]
    ours = lambda clip: power_spectrogram(clip, SAMPLE_RATE, PARAMS)  # noqa: E731
    np.testing.assert_allclose(ours(clips[0]), with_librosa(clips[0]), rtol=1e-4, atol=1e-6)
    times: dict[str, list[float]] = {"power_spectrogram": [], "librosa.stft": []}
    with threadpool_limits(1):
        for _ in range(args.repeats):
            times["power_spectrogram"].append(seconds_per_clip(ours, clips))
            times["librosa.stft"].append(seconds_per_clip(with_librosa, clips))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    for name, ms in medians.items():
        print(f"{name:>18}: {ms:7.3f} ms per {args.seconds:g} s clip")
    print(f"librosa.stft / power_spectrogram: {medians['librosa.stft'] / medians['power_spectrogram']:.2f}x")


if __name__ == "__main__":
    main()
