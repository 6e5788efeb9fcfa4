"""Information-theoretic features of a task's label distribution.

The distribution is over label tokens (see `analysis.meta.dataset.label_tokens`): for a multilabel
task every label of a clip counts once. Every feature is finite for any task with at least two
labels (a task with one label is refused before training), balanced or binary included:

- `label_entropy`: Shannon entropy in bits;
- `label_norm_entropy`: entropy over its maximum log2(K) for K labels: 1 for a balanced task, towards
  0 as one label dominates; comparable between tasks with different numbers of labels;
- `label_imbalance_ratio`: count of the most frequent label over that of the rarest (1 = balanced);
- `label_kurtosis`: Fisher kurtosis of the frequency-ordered label distribution, the distribution of
  the rank (1 = most frequent label, ..., K) weighted by the labels' frequencies, as in Martinez Alonso
  & Plank (2017). It measures how peaked the distribution is on its frequent labels. (The kurtosis of
  the list of counts, used before, is -2 for every unbalanced binary task and undefined for a
  balanced one.)
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)


def label_counts(labels: pd.Series) -> np.ndarray:
    """Number of tokens of each distinct label, in label order."""
    return labels.value_counts(sort=False).sort_index().to_numpy(dtype=float)


def label_entropy(counts: np.ndarray) -> float:
    """Shannon entropy in bits of the label distribution given by `counts`."""
    probabilities = counts[counts > 0] / counts.sum()
    return float(-(probabilities * np.log2(probabilities)).sum())


def label_norm_entropy(counts: np.ndarray) -> float:
    """Entropy over log2(K), K the number of labels with a token; NaN for fewer than 2 labels."""
    present = counts[counts > 0]
    if len(present) < 2:
        return float("nan")
    return label_entropy(present) / float(np.log2(len(present)))


def label_imbalance_ratio(counts: np.ndarray) -> float:
    """Most frequent over rarest label count (>= 1); NaN for fewer than 2 labels."""
    present = counts[counts > 0]
    if len(present) < 2:
        return float("nan")
    return float(present.max() / present.min())


def label_kurtosis(counts: np.ndarray) -> float:
    """Fisher kurtosis (0 for a normal shape) of the label rank weighted by frequency.

    Labels are ordered by decreasing count; tied labels have equal weight, so their order does not
    change the value. NaN for fewer than 2 labels. Defined for binary tasks: a Bernoulli(p) rank has
    kurtosis 1 / (p (1 - p)) - 6, so -2 when balanced.
    """
    present = np.sort(counts[counts > 0])[::-1]
    if len(present) < 2:
        return float("nan")
    weights = present / present.sum()
    ranks = np.arange(1, len(present) + 1, dtype=float)
    mean = float(np.sum(weights * ranks))
    m2 = float(np.sum(weights * (ranks - mean) ** 2))
    m4 = float(np.sum(weights * (ranks - mean) ** 4))
    return m4 / m2 ** 2 - 3.0


def information_features(tokens: pd.Series) -> dict[str, float]:
    counts = label_counts(tokens)
    return {"label_entropy": label_entropy(counts), "label_norm_entropy": label_norm_entropy(counts),
            "label_imbalance_ratio": label_imbalance_ratio(counts),
            "label_kurtosis": label_kurtosis(counts)}
