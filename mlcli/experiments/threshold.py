"""Choosing a binary model's decision threshold on out-of-fold predictions of the training rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from mlcli.errors import ConfigError, DataError


def choose_threshold(y: np.ndarray, p: np.ndarray, optimize: str = "f1") -> tuple[float, str]:
    """Best threshold on the positive-class probability by the goal: f1 | youden | precision=P | recall=R."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    goal = (optimize or "f1").strip().lower()
    if goal == "f1":
        prec, rec, thr = precision_recall_curve(y, p)
        f1 = np.where(prec[:-1] + rec[:-1] > 0, 2 * prec[:-1] * rec[:-1] / (prec[:-1] + rec[:-1] + 1e-12), 0)
        i = int(np.argmax(f1))
        return float(thr[i]), f"max F1 ({f1[i]:.3f} on out-of-fold predictions)"
    if goal == "youden":
        fpr, tpr, thr = roc_curve(y, p)
        j = tpr - fpr
        i = int(np.argmax(j[1:])) + 1  # skip the artificial first threshold (inf)
        return float(min(thr[i], 1.0)), f"max Youden's J ({j[i]:.3f})"
    key, sep, value = goal.partition("=")
    if key in ("precision", "recall") and sep:
        try:
            target = float(value)
        except ValueError:
            target = -1
        if not 0 < target <= 1:
            raise ConfigError(f"--optimize {key}=VALUE needs a value in (0, 1], got '{value}'")
        prec, rec, thr = precision_recall_curve(y, p)
        prec, rec = prec[:-1], rec[:-1]
        if key == "precision":
            ok = np.where(prec >= target)[0]
            if not len(ok):
                raise DataError(f"no threshold reaches precision {target} on the training rows; ask for less")
            i = ok[np.argmax(rec[ok])]  # the best recall among thresholds that reach the precision
        else:
            ok = np.where(rec >= target)[0]
            i = ok[np.argmax(prec[ok])]
        return float(thr[i]), f"{key} ≥ {target} (precision {prec[i]:.3f}, recall {rec[i]:.3f} out of fold)"
    raise ConfigError(f"unknown --optimize '{optimize}'; choose f1, youden, precision=P or recall=R")


def check_optimize(optimize: str) -> None:
    """Reject an unknown --optimize goal before anything is fitted."""
    goal = (optimize or "f1").strip().lower()
    key, sep, value = goal.partition("=")
    if goal in ("f1", "youden"):
        return
    if key in ("precision", "recall") and sep:
        try:
            if 0 < float(value) <= 1:
                return
        except ValueError:
            pass
        raise ConfigError(f"--optimize {key}=VALUE needs a value in (0, 1], got '{value}'")
    raise ConfigError(f"unknown --optimize '{optimize}'; choose f1, youden, precision=P or recall=R")


def oof_probabilities(pipeline: Any, X: pd.DataFrame, y: np.ndarray, seed: int, folds: int = 5) -> np.ndarray:
    """Out-of-fold positive-class probabilities on the training rows (for threshold choice)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = max(2, min(folds, int(np.bincount(y).min())))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return cross_val_predict(clone(pipeline), X, y, cv=cv, method="predict_proba")[:, 1]
