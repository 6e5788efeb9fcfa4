"""Learning-curve features of a single-task run, after Bingel & Sogaard (2017).

The training-loss curve of a task is averaged over folds and seeds per step. Two sets of features
are computed from it; the pair features of a study use the set of its `analysis.protocol`.

Calibrated (`curve_grad_*`, `curve_fit_a`, `curve_fit_c`):

- `curve_grad_<p>`: slope (loss per step) at p = 10, 20, 30, 50, 70 % of training, the slope of a
  least-squares line through the curve's points within +-5 % of training around that point. A
  per-step minibatch loss is noisy; a central difference of two neighbouring steps mostly measures
  that noise, the local line averages it out.
- `curve_fit_a`, `curve_fit_c` of a fitted logarithm `L(i) = a * ln(c * i + d) + b`. With `b` free,
  `c` and `d` are not separately identifiable (`a ln(c i + d) + b` equals `a ln(i + d/c) + a ln c
  + b`), so `d` is fixed at 1: `b` is then the loss at step 0, `a` the amplitude of the decay
  (negative for a falling loss) and `c` its rate per step.

Published (`bs_curve_grad_*`, `bs_curve_fit_a`, `bs_curve_fit_c`), the definitions of the code of
Bingel & Sogaard (repository jbingel/eacl2017_mtl, `experiments.ipynb`, functions
`get_curve_gradients` and `get_curve_params`):

- `bs_curve_grad_<p>`: `(L[i+1] - L[i-1]) / (step[i+1] - step[i-1])` at index `i = int(n * p / 100)`
  of the n logged points (no smoothing);
- `bs_curve_fit_a`, `bs_curve_fit_c`: `scipy.optimize.curve_fit` of the four-parameter
  `b + a * ln(c * i + d)` from its default start (all parameters 1) on every 10th of the first 5000
  logged points (`xs[:5000:10]`); `a` and `c` are their `popt[1]` and `popt[2]`.

Their logs are of one training run; with several folds or seeds the mean curve is used (an
assumption: their code does not say what to do with several runs).
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
# Half-width of the window of the smoothed slope, as a fraction of training.
SLOPE_HALF_WINDOW = 0.05
MIN_SLOPE_POINTS = 3
# The part of the curve Bingel & Sogaard fit: xs[:5000:10].
BS_FIT_POINTS, BS_FIT_STRIDE = 5000, 10


def mean_curve(curves: pd.DataFrame) -> pd.Series:
    """Loss per step averaged over folds and seeds, indexed by step in increasing order."""
    if curves.groupby("step").size().nunique() > 1:
        logger.warning("curves of different lengths: later steps average fewer runs")
    return curves.groupby("step")["loss"].mean().sort_index()


def local_slope(steps: np.ndarray, loss: np.ndarray, at: float, half_window: float) -> float:
    """Least-squares slope of the points within `half_window` steps of `at` (at least the
    `MIN_SLOPE_POINTS` nearest ones)."""
    distance = np.abs(steps - at)
    inside = distance <= half_window
    if inside.sum() < MIN_SLOPE_POINTS:
        inside = np.zeros(len(steps), dtype=bool)
        inside[np.argsort(distance, kind="stable")[:MIN_SLOPE_POINTS]] = True
    x, y = steps[inside], loss[inside]
    centred = x - x.mean()
    return float(np.sum(centred * (y - y.mean())) / np.sum(centred ** 2))


def curve_gradients(curve: pd.Series, percents: tuple[int, ...] = GRADIENT_PERCENTS,
                    half_window: float = SLOPE_HALF_WINDOW) -> dict[str, float]:
    """Smoothed slope (loss per step) at each percent of training: see the module docstring."""
    if len(curve) < MIN_SLOPE_POINTS:
        logger.warning("a curve with %d point(s) has no gradient", len(curve))
        return {f"curve_grad_{p}": float("nan") for p in percents}
    steps = curve.index.to_numpy(dtype=float)
    loss = curve.to_numpy(dtype=float)
    first, span = steps.min(), np.ptp(steps)
    return {f"curve_grad_{p}": local_slope(steps, loss, first + p / 100 * span, half_window * span)
            for p in percents}


def bs_curve_gradients(curve: pd.Series,
                       percents: tuple[int, ...] = GRADIENT_PERCENTS) -> dict[str, float]:
    """Bingel & Sogaard's gradients: central difference of the logged points at `int(n * p)`."""
    steps = curve.index.to_numpy(dtype=float)
    loss = curve.to_numpy(dtype=float)
    result = {}
    for p in percents:
        i = int(len(curve) * (p / 100))  # their int(len(xs) * 0.3), same floating point
        defined = 1 <= i < len(curve) - 1
        result[f"bs_curve_grad_{p}"] = (float((loss[i + 1] - loss[i - 1])
                                              / (steps[i + 1] - steps[i - 1]))
                                        if defined else float("nan"))
    if not all(np.isfinite(list(result.values()))):
        logger.warning("a curve with %d point(s) lacks some published-protocol gradients",
                       len(curve))
    return result


def bs_log_curve(i: np.ndarray, b: float, a: float, c: float, d: float) -> np.ndarray:
    """`b + a * ln(c * i + d)`, in the parameter order of Bingel & Sogaard's `func`."""
    return b + a * np.log(np.multiply(i, c) + d)


def bs_fit_log_curve(curve: pd.Series) -> dict[str, float]:
    """Bingel & Sogaard's fit: `curve_fit` from the default start on `points[:5000:10]`."""
    failed = {"bs_curve_fit_a": float("nan"), "bs_curve_fit_c": float("nan")}
    part = curve.iloc[:BS_FIT_POINTS:BS_FIT_STRIDE]
    if len(part) < MIN_FIT_POINTS:
        logger.warning("published-protocol log fit: %d point(s) cannot be fitted", len(part))
        return failed
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", OptimizeWarning)
            popt, _ = curve_fit(bs_log_curve, part.index.to_numpy(dtype=float),
                                part.to_numpy(dtype=float))
    except (RuntimeError, ValueError) as error:
        logger.warning("published-protocol log fit did not converge: %s", error)
        return failed
    if not np.all(np.isfinite(popt)):
        logger.warning("published-protocol log fit gave non-finite parameters %s", popt)
        return failed
    return {"bs_curve_fit_a": float(popt[1]), "bs_curve_fit_c": float(popt[2])}


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
    on_bound = not (RATE_BOUNDS[0] * (1 + 1e-6) < rate < RATE_BOUNDS[1] * (1 - 1e-6))
    if on_bound or not np.isfinite(a):
        logger.warning("log learning-curve fit ended on the bound of c (%g); no estimate", rate)
        return failed
    return {"curve_fit_a": float(a), "curve_fit_c": float(rate / scale)}


def curve_features(curves: pd.DataFrame) -> dict[str, float]:
    """Calibrated and published gradient and log-fit features of one task's single-task curves
    (fold, seed, step, loss)."""
    curve = mean_curve(curves)
    return {**curve_gradients(curve), **fit_log_curve(curve), **bs_curve_gradients(curve),
            **bs_fit_log_curve(curve)}
