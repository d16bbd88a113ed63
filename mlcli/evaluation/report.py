"""A model's metrics on labelled rows: the report train, evaluate and cv share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.evaluation import metrics as M
from mlcli.evaluation.scoring import decide, predict_indices


@dataclass
class EvalReport:
    """Metrics of a model on labelled rows (used by train, evaluate and cv)."""

    task: str
    metrics: dict[str, float | None]
    classes: list[Any] = field(default_factory=list)
    confusion: list[list[int]] | None = None
    per_class: list[dict[str, Any]] | None = None
    n_rows: int = 0
    threshold: float | None = None
    minority: dict[str, Any] | None = None  # set when the classes are imbalanced
    # the predictions behind the metrics (for --plot), never serialised: labels (class indices or values),
    # predictions and, for classifiers that have them, class probabilities
    y: np.ndarray | None = field(default=None, repr=False, compare=False)
    pred: np.ndarray | None = field(default=None, repr=False, compare=False)
    proba: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = {"task": self.task, "rows": self.n_rows, "metrics": self.metrics}
        if self.task != "regression":
            d.update(classes=self.classes, confusion_matrix=self.confusion, per_class=self.per_class)
            if self.threshold is not None:
                d["threshold"] = self.threshold
            if self.minority is not None:
                d["minority"] = self.minority
        return d


def measure(pipeline: Any, X: pd.DataFrame, y: np.ndarray, task: str, classes: list[Any],
            threshold: float | None = None) -> EvalReport:
    return measure_at(pipeline, X, y, task, classes, [threshold])[0]


def measure_at(pipeline: Any, X: pd.DataFrame, y: np.ndarray, task: str, classes: list[Any],
               thresholds: list[float | None]) -> list[EvalReport]:
    """A report per decision threshold (binary models), all from one prediction of the rows: scoring a large
    model (26 classes x hundreds of boosting rounds) costs far more than the metrics."""
    pred, proba = predict_indices(pipeline, X, task, thresholds[0])
    reports = [report_of(y, pred, proba, task, classes, thresholds[0])]
    for threshold in thresholds[1:]:
        labels = pred if proba is None else decide(proba, task, threshold)
        reports.append(report_of(y, labels, proba, task, classes, threshold))
    return reports


def report_of(y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, task: str, classes: list[Any],
              threshold: float | None = None) -> EvalReport:
    """The report of predictions already made (class indices, probabilities) against the true labels."""
    if task == "regression":
        return EvalReport(task, M.regression_metrics(y, pred), n_rows=len(y), y=y, pred=pred)
    k = len(classes)
    per_class = M.per_class(y, pred, classes)
    metrics = M.classification_metrics(y, pred, proba, k)
    return EvalReport(task, metrics, classes, M.confusion(y, pred, k), per_class, len(y), threshold,
                      M.minority_summary(y, proba, per_class, metrics), y=y, pred=pred, proba=proba)
