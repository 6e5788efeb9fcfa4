"""Helpers of the bad-input catalogue (docs/bad-inputs.md): small datasets and one indexing call."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: study_data

from analysis.corpora.readers import index_dataset
from analysis.errors import StudyInputError

RATE = 8000


def write_wav(path: Path, seconds: float = 0.2, rate: int = RATE, channels: int = 1, subtype: str | None = None,
              data: np.ndarray | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        rng = np.random.default_rng(abs(hash(path.name)) % 2**32)
        data = 0.1 * rng.standard_normal((int(seconds * rate), channels))
    sf.write(path, data.astype(np.float32), rate, subtype=subtype)
    return path


def folders_dataset(root: Path, per_class: int = 3, classes: tuple[str, ...] = ("cat", "dog")) -> Path:
    for label in classes:
        for i in range(per_class):
            write_wav(root / label / f"{label}_{i}.wav")
    return root


def manifest_dataset(root: Path, rows: list[dict], write_files: bool = True) -> Path:
    for row in rows:
        if write_files and not (root / row["path"]).exists():
            write_wav(root / row["path"])
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


class Indexing:
    """One call of `index_dataset` into tmp/results; `.error` holds the message when it stopped."""

    def __init__(self, tmp: Path):
        self.out = tmp / "results" / "manifest.parquet"
        self.skipped = tmp / "results" / "skipped.csv"

    def run(self, reader: str, root: Path, tasks: dict, folds: int = 2, **options) -> pd.DataFrame:
        index_dataset("d", reader, str(root), tasks, folds, str(self.out), options, str(self.skipped))
        return pd.read_parquet(self.out)

    def fails(self, reader: str, root: Path, tasks: dict, folds: int = 2, **options) -> str:
        with pytest.raises(StudyInputError) as error:
            self.run(reader, root, tasks, folds, **options)
        self.assert_nothing_written()
        return str(error.value)

    def assert_nothing_written(self) -> None:
        assert not self.out.exists() and not self.skipped.exists(), "a failed indexing left outputs behind"
        leftovers = list(self.out.parent.glob(".*")) if self.out.parent.exists() else []
        assert not leftovers, f"temporary files left behind: {leftovers}"

    def skipped_reasons(self) -> dict[str, str]:
        table = pd.read_csv(self.skipped, dtype=str, keep_default_na=False)
        return {Path(f).name: reason for f, reason in zip(table["file"], table["reason"])}


@pytest.fixture
def indexing(tmp_path: Path) -> Indexing:
    return Indexing(tmp_path)
