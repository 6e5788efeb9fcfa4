"""Information-theoretic features of a task's label distribution.

The distribution is over label tokens (see `analysis.meta.dataset.label_tokens`): for a multilabel
task every label of a clip counts once.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats

logger = logging.getLogger(__name__)


def label_counts(labels: pd.Series) -> np.ndarray:
    """Number of tokens of each distinct label, in label order."""
    return labels.value_counts(sort=False).sort_index().to_numpy(dtype=float)


def label_entropy(counts: np.ndarray) -> float:
    """Shannon entropy in bits of the label distribution given by `counts`."""
    probabilities = counts[counts > 0] / counts.sum()
    return float(-(probabilities * np.log2(probabilities)).sum())


def label_kurtosis(counts: np.ndarray) -> float:
    """Fisher kurtosis (`scipy.stats.kurtosis`, 0 for a normal distribution) of the label counts.

    Undefined, so NaN, when all labels have the same count (a balanced task) or there is one label.
    """
    if len(counts) < 2 or np.ptp(counts) == 0:
        return float("nan")
    return float(stats.kurtosis(counts, fisher=True))


def information_features(tokens: pd.Series) -> dict[str, float]:
    counts = label_counts(tokens)
    return {"label_entropy": label_entropy(counts), "label_kurtosis": label_kurtosis(counts)}
