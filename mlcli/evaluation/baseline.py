"""The trivial model every score is shown beside: the training class shares (classification) or the
training mean (regression). A model that does not beat it has learned nothing a person could use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlcli.evaluation import metrics as M


@dataclass
class Baseline:
    """Predicts the same for every row: the class shares seen in training (probabilities; the label is the
    most frequent class), or the training mean."""

    task: str
    priors: list[float] | None = None
    mean: float | None = None

    @classmethod
    def fit(cls, task: str, y: np.ndarray, n_classes: int = 0) -> Baseline:
        if task == "regression":
            return cls(task, mean=float(np.mean(y)))
        counts = np.bincount(np.asarray(y, dtype=int), minlength=n_classes).astype(float)
        return cls(task, priors=[round(float(c), 10) for c in counts / counts.sum()])

    def metrics(self, y: np.ndarray) -> dict[str, float | None]:
        """The task's metrics of the baseline on labelled rows ``y``."""
        n = len(y)
        if self.task == "regression":
            return M.regression_metrics(y, np.full(n, self.mean, dtype=float))
        priors = np.asarray(self.priors, dtype=float)
        proba = np.tile(priors, (n, 1))
        pred = np.full(n, int(np.argmax(priors)))
        return M.classification_metrics(np.asarray(y, dtype=int), pred, proba, len(priors))

    def to_dict(self) -> dict[str, Any]:
        return {"priors": self.priors} if self.task != "regression" else {"mean": self.mean}

    @classmethod
    def from_dict(cls, task: str, d: dict[str, Any] | None) -> Baseline | None:
        if not d:
            return None
        return cls(task, priors=d.get("priors"), mean=d.get("mean"))


OVERFIT_KEEP = 0.5  # a model is flagged when its held-out score keeps less than this share of its training
# score's advantage over the baseline


def overfitting(metric: str, train: float | None, test: float | None, baseline: float | None) -> bool | None:
    """The overfitting rule: the training score beats the baseline, and the held-out score keeps less than
    half of that advantage (a forest scoring 1.0 on its training rows and well above the baseline on held-out
    rows is not flagged). None when a figure is missing."""
    if train is None or test is None or baseline is None:
        return None
    sign = -1.0 if metric in M.LOWER_IS_BETTER else 1.0
    on_train, held_out = sign * (train - baseline), sign * (test - baseline)
    return bool(on_train > 1e-9 and held_out < OVERFIT_KEEP * on_train)


OVERFIT_RULE = ("flagged when the held-out score keeps less than half of the training score's advantage over "
                "the baseline")
