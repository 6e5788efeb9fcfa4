"""Learning-curve features of a single-task run (Bingel & Sogaard 2017).

The training-loss curve of a task is averaged over folds and seeds per step. Its features are the
slopes at 10, 20, 30, 50 and 70 % of the logged steps and the `a` and `c` of a fitted logarithm

    L(i) = a * ln(c * i + d) + b.

With `b` free, `c` and `d` are not separately identifiable (`a ln(c i + d) + b` equals
`a ln(i + d/c) + a ln c + b`), so `d` is fixed at 1: `b` is then the loss at step 0, `a` the
amplitude of the decay (negative for a falling loss) and `c` its rate per step.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit

logger = logging.getLogger(__name__)

GRADIENT_PERCENTS = (10, 20, 30, 50, 70)
FIT_D = 1.0
# Bounds and start grid of the rate on steps scaled to [0, 1] (c_scaled = c * last step).
RATE_BOUNDS = (1e-6, 1e6)
RATE_GRID = np.logspace(-2, 4, 25)
MIN_FIT_POINTS = 4


def mean_curve(curves: pd.DataFrame) -> pd.Series:
    """Loss per step averaged over folds and seeds, indexed by step in increasing order."""
    if curves.groupby("step").size().nunique() > 1:
        logger.warning("curves of different lengths: later steps average fewer runs")
    return curves.groupby("step")["loss"].mean().sort_index()


def percent_index(n_points: int, percent: float) -> int:
    """Index of the point at `percent` % of `n_points` logged steps (rounded half up)."""
    return int(np.floor(percent / 100 * (n_points - 1) + 0.5))


def curve_gradients(curve: pd.Series,
                    percents: tuple[int, ...] = GRADIENT_PERCENTS) -> dict[str, float]:
    """Slope (loss per step, by `np.gradient` central differences) at each percent of the steps."""
    if len(curve) < 2:
        logger.warning("a curve with %d point(s) has no gradient", len(curve))
        return {f"curve_grad_{p}": float("nan") for p in percents}
    slopes = np.gradient(curve.to_numpy(dtype=float), curve.index.to_numpy(dtype=float))
    return {f"curve_grad_{p}": float(slopes[percent_index(len(curve), p)]) for p in percents}


def log_curve(i: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """`a * ln(c * i + 1) + b`, the fitted learning-curve model with d fixed at 1."""
    return a * np.log(c * i + FIT_D) + b


def _linear_part(x: np.ndarray, y: np.ndarray, rate: float) -> tuple[float, float, float]:
    """For a fixed rate, least-squares a and b, and the residual sum of squares."""
    design = np.column_stack([np.log(rate * x + FIT_D), np.ones_like(x)])
    (a, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(a), float(b), float(np.sum((design @ [a, b] - y) ** 2))


def start_values(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Start (a, b, rate): the best rate of a log-spaced grid, with its least-squares a and b."""
    fits = [(_linear_part(x, y, rate), rate) for rate in RATE_GRID]
    (a, b, _), rate = min(fits, key=lambda fit: fit[0][2])
    return a, b, float(rate)


def fit_log_curve(curve: pd.Series, max_nfev: int | None = None) -> dict[str, float]:
    """`curve_fit_a` and `curve_fit_c` of the curve; NaN with a warning when the fit fails."""
    failed = {"curve_fit_a": float("nan"), "curve_fit_c": float("nan")}
    steps = curve.index.to_numpy(dtype=float)
    loss = curve.to_numpy(dtype=float)
    if len(curve) < MIN_FIT_POINTS or not np.all(np.isfinite(loss)) or steps.max() <= 0:
        logger.warning("learning curve of %d point(s) cannot be fitted", len(curve))
        return failed
    scale = steps.max()
    x = steps / scale
    p0 = start_values(x, loss)
    bounds = ([-np.inf, -np.inf, RATE_BOUNDS[0]], [np.inf, np.inf, RATE_BOUNDS[1]])
    try:
        with warnings.catch_warnings():
            # The covariance of the parameters is not used; only the estimates are.
            warnings.simplefilter("ignore", OptimizeWarning)
            (a, _, rate), _ = curve_fit(log_curve, x, loss, p0=p0, bounds=bounds, max_nfev=max_nfev)
    except (RuntimeError, ValueError) as error:
        logger.warning("log learning-curve fit did not converge: %s", error)
        return failed
    if not (RATE_BOUNDS[0] < rate < RATE_BOUNDS[1]) or not np.isfinite(a):
        logger.warning("log learning-curve fit ended on the bound of c (%g); no estimate", rate)
        return failed
    return {"curve_fit_a": float(a), "curve_fit_c": float(rate / scale)}


def curve_features(curves: pd.DataFrame) -> dict[str, float]:
    """Gradient and log-fit features of one task's single-task curves (fold, seed, step, loss)."""
    curve = mean_curve(curves)
    return {**curve_gradients(curve), **fit_log_curve(curve)}
