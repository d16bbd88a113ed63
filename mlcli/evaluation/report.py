"""A model's metrics on labelled rows: the report train, evaluate and cv share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.evaluation import metrics as M
from mlcli.evaluation.scoring import predict_indices


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
    pred, proba = predict_indices(pipeline, X, task, threshold)
    if task == "regression":
        return EvalReport(task, M.regression_metrics(y, pred), n_rows=len(y))
    k = len(classes)
    per_class = M.per_class(y, pred, classes)
    metrics = M.classification_metrics(y, pred, proba, k)
    return EvalReport(task, metrics, classes, M.confusion(y, pred, k), per_class, len(y), threshold,
                      M.minority_summary(y, proba, per_class, metrics))
