"""Reading audio files: header probing for manifests and decoding to mono float32 for features.

Everything goes through soundfile (libsndfile: wav, flac, ogg/vorbis, aiff, mp3). A file that
libsndfile cannot open or that holds no samples is a user problem and raises `StudyInputError`
naming the file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from analysis.errors import StudyInputError

logger = logging.getLogger(__name__)

#: File extensions the folder and pattern readers pick up by default (lower case, with the dot).
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au", ".mp3")

#: librosa resampler used whenever a file's rate differs from the study's rate.
RESAMPLE_TYPE = "soxr_hq"

#: libsndfile subtypes whose samples can be NaN or infinite (decoded when probed, to check them).
FLOAT_SUBTYPES: frozenset[str] = frozenset({"FLOAT", "DOUBLE"})


@dataclass(frozen=True)
class AudioInfo:
    """What the header of an audio file says."""

    frames: int
    sample_rate: int
    channels: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def probe_audio(path: str | os.PathLike) -> AudioInfo:
    """Read the header of `path`. Unreadable or empty files raise StudyInputError, and so do
    floating-point files holding NaN or infinite samples (only those are decoded: integer samples
    are always finite)."""
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise StudyInputError(f"{path}: the file is empty (0 bytes); remove it from the dataset or replace it.")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise _unreadable(path, error) from error
    if info.frames <= 0 or info.samplerate <= 0:
        raise StudyInputError(
            f"{path}: the audio file is empty (0 frames); remove it from the dataset or replace it."
        )
    if info.subtype in FLOAT_SUBTYPES:
        try:
            data, _ = sf.read(str(path), dtype="float64", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, OSError) as error:
            raise _unreadable(path, error) from error
        check_finite(data, path)
    return AudioInfo(frames=int(info.frames), sample_rate=int(info.samplerate), channels=int(info.channels))


def check_finite(data: np.ndarray, path: str | os.PathLike) -> None:
    """Raise StudyInputError naming `path` when `data` holds NaN or infinite samples."""
    bad = int(data.size - np.count_nonzero(np.isfinite(data)))
    if bad:
        raise StudyInputError(
            f"{path}: {bad} samples are not finite (NaN or infinite); "
            "repair or remove the file (bad_files: skip leaves it out)."
        )


def load_audio(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """Decode `path` to a 1-d float32 signal at `sample_rate`: channels averaged, resampled if needed."""
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise _unreadable(path, error) from error
    if data.shape[0] == 0:
        raise StudyInputError(
            f"{path}: the audio file is empty (0 frames); remove it from the dataset or replace it."
        )
    check_finite(data, path)
    signal = to_mono(data)
    return resample(signal, int(file_rate), int(sample_rate))


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average a (frames, channels) array to one float32 channel."""
    if data.ndim == 1:
        return data.astype(np.float32, copy=False)
    if data.shape[1] == 1:
        return np.ascontiguousarray(data[:, 0], dtype=np.float32)
    return data.mean(axis=1, dtype=np.float64).astype(np.float32)


def resample(signal: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample a mono signal with librosa (soxr); a no-op when the rates agree."""
    if orig_rate == target_rate:
        return signal.astype(np.float32, copy=False)
    import librosa  # imported here: only resampling needs it, and it is slow to import

    out = librosa.resample(signal, orig_sr=orig_rate, target_sr=target_rate, res_type=RESAMPLE_TYPE)
    return np.ascontiguousarray(out, dtype=np.float32)


def _unreadable(path: str | os.PathLike, error: Exception) -> StudyInputError:
    return StudyInputError(
        f"{path}: cannot read this audio file ({_reason(error)}); "
        "replace it with a readable wav/flac/ogg file or remove it from the dataset."
    )


def _reason(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[-1] if text else type(error).__name__
