"""How far a classifier's probabilities are from the frequencies they claim: the Brier score (a proper scoring
rule, beside log loss) and the expected calibration error (ECE), with the ECE a perfectly calibrated model
would still show on that many rows, so that a verdict does not fire on noise.

ECE: 10 equal-width bins of the predicted probability — the positive class's for binary models, the top
class's (the confidence) for multiclass — and the row-weighted mean of |observed share - mean probability|
over the bins. Brier: the mean squared distance between the probabilities and the one-hot label; for binary
models the positive class's column only (0 to 1, as scikit-learn's ``brier_score_loss``), for multiclass the
sum over the classes (Brier's original, 0 to 2).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

BINS = 10
MIN_ROWS = 100  # fewer held-out rows: no calibration verdict (the ECE of so few rows is mostly noise)
ECE_LIMIT = 0.1  # an ECE above this, and above what noise gives (:func:`ece_noise`), is miscalibration
NOISE_Z = 4.0  # the noise bound: a calibrated model's ECE, mean + 4 SDs (simulated: at most 0.25 % false alarms)


def _outcome(y: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted probability, 0/1 outcome) the ECE bins: the positive class (binary), else the top class."""
    y = np.asarray(y, dtype=int)
    if proba.shape[1] == 2:
        return proba[:, 1], (y == 1).astype(float)
    return proba.max(axis=1), (proba.argmax(axis=1) == y).astype(float)


def _bins(p: np.ndarray, bins: int = BINS) -> np.ndarray:
    return np.minimum((np.clip(p, 0.0, 1.0) * bins).astype(int), bins - 1)


def brier(y: np.ndarray, proba: np.ndarray) -> float:
    y = np.asarray(y, dtype=int)
    if proba.shape[1] == 2:
        return float(np.mean((proba[:, 1] - (y == 1)) ** 2))
    onehot = np.eye(proba.shape[1])[y]
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


def ece(y: np.ndarray, proba: np.ndarray, bins: int = BINS) -> float:
    p, hit = _outcome(y, proba)
    b = _bins(p, bins)
    gap = np.abs(np.bincount(b, hit, minlength=bins) - np.bincount(b, p, minlength=bins))  # n_b x |share - mean|
    return float(gap.sum() / max(len(p), 1))


def ece_noise(proba: np.ndarray, bins: int = BINS, z: float = NOISE_Z) -> float:
    """The ECE a perfectly calibrated model with these probabilities would exceed rarely: each row's outcome a
    coin with its own probability, each bin's gap then about normal with SD sqrt(sum p(1-p)) / n_b, and the
    ECE (the weighted sum of |gap|) its mean plus ``z`` SDs."""
    p, _ = _outcome(np.zeros(len(proba), dtype=int), proba)
    n = len(p)
    if n == 0:
        return 0.0
    b = _bins(p, bins)
    var_sum = np.bincount(b, p * (1 - p), minlength=bins)  # per bin: sum of p(1-p); w_b * sd_b = sqrt(.) / n
    sd_term = np.sqrt(var_sum) / n
    mean = math.sqrt(2 / math.pi) * sd_term.sum()
    sd = math.sqrt((1 - 2 / math.pi) * float(np.sum(sd_term ** 2)))
    return float(mean + z * sd)


def calibration_check(y: np.ndarray | None, proba: np.ndarray | None, baseline_brier: float | None = None
                      ) -> dict[str, Any] | None:
    """The held-out calibration: Brier (and the baseline's), ECE, the ECE noise bound on these rows, and
    ``miscalibrated`` — at least MIN_ROWS rows, an ECE above ECE_LIMIT and above the noise bound. None without
    probabilities."""
    if y is None or proba is None or len(y) == 0:
        return None
    proba = np.asarray(proba, dtype=float)
    value, noise = ece(y, proba), ece_noise(proba)
    return {"brier": round(brier(y, proba), 6), "baseline_brier": baseline_brier, "ece": round(value, 6),
            "ece_noise": round(noise, 6), "bins": BINS, "rows": int(len(y)),
            "on": "positive class" if proba.shape[1] == 2 else "top class",
            "miscalibrated": bool(len(y) >= MIN_ROWS and value > ECE_LIMIT and value > noise),
            "rule": (f"miscalibrated when at least {MIN_ROWS} rows, ECE above {ECE_LIMIT} and above the ECE a "
                     f"perfectly calibrated model would reach on these rows (mean + {NOISE_Z:g} SD)")}
