"""The predictions a model's figures are drawn from (held-out rows of train, labelled rows of evaluate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Scored:
    """Labels and predictions of one model on one set of rows.

    ``y`` and ``pred`` hold class indices (0..k-1) for classifiers and values for regression; ``proba`` the
    class probabilities (n x k) when the model has them; ``threshold`` the decision threshold in use (binary),
    ``chosen_by`` where it came from when it was not given or the default (e.g. "auto, max F1").
    """

    task: str
    target: str
    classes: list[Any]
    y: np.ndarray
    pred: np.ndarray
    proba: np.ndarray | None = None
    threshold: float | None = None
    chosen_by: str | None = None

    @property
    def positive(self) -> str:
        """The positive class of a binary model, as the user's data spells it."""
        return str(self.classes[1]) if len(self.classes) > 1 else "1"

    @property
    def p(self) -> np.ndarray:
        """The positive-class probability of a binary model."""
        assert self.proba is not None
        return np.asarray(self.proba[:, 1], dtype=float)

    @property
    def has_proba(self) -> bool:
        return self.task == "binary" and self.proba is not None and len(np.unique(self.y)) == 2


def from_report(report: Any, target: str, chosen_by: str | None = None) -> Scored:
    """The Scored of an EvalReport (mlcli.evaluation.report), which keeps the predictions behind its metrics."""
    return Scored(report.task, target, list(report.classes or []), np.asarray(report.y), np.asarray(report.pred),
                  None if report.proba is None else np.asarray(report.proba), report.threshold, chosen_by)


def subsample(n: int, limit: int = 5000, seed: int = 0) -> np.ndarray:
    """Row positions to draw in a scatter: all of them, or ``limit`` chosen at random (fixed seed)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))
