"""TensorBoard event logs of a trained model, written from its recorded tables.

The logs are made after training from `curve.parquet` and `history.parquet`, so they cost the
training loop nothing, cannot change its numbers, and are the same for a resumed run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd

from analysis.io import read_table


def _summary_writer():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:  # torch raises this when the tensorboard package is missing
        raise ImportError(
            "tensorboard: true needs the `tensorboard` package; run install.sh again"
        ) from error
    return SummaryWriter


def write_tensorboard_logs(curve_path: str, history_path: str, out_dir: str) -> None:
    """One TensorBoard run per (fold, seed) under `out_dir`: `loss/<task>` per training step and
    `<metric>/<task>` per epoch."""
    summary_writer = _summary_writer()
    curve, history = read_table(curve_path), read_table(history_path)
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        for (fold, seed), runs in _runs(curve, history).items():
            writer = summary_writer(log_dir=str(staging / f"fold{fold}_seed{seed}"))
            for row in runs["curve"].itertuples(index=False):
                writer.add_scalar(f"loss/{row.task}", row.loss, int(row.step))
            for row in runs["history"].itertuples(index=False):
                writer.add_scalar(f"{row.metric}/{row.task}", row.value, int(row.epoch))
            writer.close()
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _runs(curve: pd.DataFrame, history: pd.DataFrame) -> dict[tuple[int, int], dict[str, pd.DataFrame]]:
    keys = sorted(set(zip(curve["fold"], curve["seed"])) | set(zip(history["fold"], history["seed"])))
    return {
        (int(fold), int(seed)): {
            "curve": curve[(curve["fold"] == fold) & (curve["seed"] == seed)],
            "history": history[(history["fold"] == fold) & (history["seed"] == seed)],
        }
        for fold, seed in keys
    }
