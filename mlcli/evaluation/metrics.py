"""Metrics of a task, computed from true labels, predicted labels and probabilities."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from mlcli.errors import ConfigError, did_you_mean

# the main metric of each task, used for the train-vs-test gap and as cv's default sort key
MAIN_METRIC = {"binary": "roc_auc", "multiclass": "f1_macro", "regression": "rmse"}


LOWER_IS_BETTER = {"rmse", "mae", "mape", "log_loss", "brier", "ece"}


def _clean(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None,
                           n_classes: int) -> dict[str, float | None]:
    """y_true / y_pred are class indices 0..n_classes-1; proba has one column per class."""
    from sklearn import metrics as m

    labels = list(range(n_classes))
    out: dict[str, float | None] = {}
    out["accuracy"] = m.accuracy_score(y_true, y_pred)
    out["balanced_accuracy"] = m.balanced_accuracy_score(y_true, y_pred) if len(np.unique(y_true)) > 1 else None
    cm = m.confusion_matrix(y_true, y_pred, labels=labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if n_classes == 2:
            tn, fp, fn, tp = cm.ravel()
            out["precision"] = m.precision_score(y_true, y_pred, zero_division=0)
            out["recall"] = m.recall_score(y_true, y_pred, zero_division=0)
            out["specificity"] = tn / (tn + fp) if (tn + fp) else None
            out["f1"] = m.f1_score(y_true, y_pred, zero_division=0)
        else:
            seen = scored_classes(y_true, y_pred)
            for avg in ("macro", "weighted"):
                out[f"precision_{avg}"] = m.precision_score(y_true, y_pred, average=avg, labels=seen,
                                                            zero_division=0)
                out[f"recall_{avg}"] = m.recall_score(y_true, y_pred, average=avg, labels=seen, zero_division=0)
                out[f"f1_{avg}"] = m.f1_score(y_true, y_pred, average=avg, labels=seen, zero_division=0)
            spec = [_specificity(cm, k) for k in labels]
            out["specificity_macro"] = float(np.nanmean(spec)) if spec else None
        present = np.unique(y_true)
        if proba is not None and len(present) > 1:
            p = np.clip(proba, 1e-15, 1 - 1e-15)
            if n_classes == 2:
                out["roc_auc"] = m.roc_auc_score(y_true, proba[:, 1])
                out["pr_auc"] = m.average_precision_score(y_true, proba[:, 1])
            elif len(present) == n_classes:
                out["roc_auc"] = m.roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels)
                onehot = np.eye(n_classes)[y_true]
                out["pr_auc"] = m.average_precision_score(onehot, proba, average="macro")
            else:
                out["roc_auc"] = out["pr_auc"] = None
            out["log_loss"] = m.log_loss(y_true, p, labels=labels)
        else:
            out["roc_auc"] = out["pr_auc"] = out["log_loss"] = None
        if proba is not None and len(y_true):  # calibration (evaluation.calibration): defined with one class too
            from mlcli.evaluation.calibration import brier, ece

            out["brier"], out["ece"] = brier(y_true, proba), ece(y_true, proba)
        else:
            out["brier"] = out["ece"] = None
        out["mcc"] = m.matthews_corrcoef(y_true, y_pred)
    return {k: _clean(v) if v is not None else None for k, v in out.items()}


def _specificity(cm: np.ndarray, k: int) -> float:
    tn = cm.sum() - cm[k, :].sum() - cm[:, k].sum() + cm[k, k]
    fp = cm[:, k].sum() - cm[k, k]
    return tn / (tn + fp) if (tn + fp) else float("nan")


def per_class(y_true: np.ndarray, y_pred: np.ndarray, classes: list[Any]) -> list[dict[str, Any]]:
    from sklearn.metrics import precision_recall_fscore_support

    labels = list(range(len(classes)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return [{"class": _jsonable(c), "precision": _clean(p[i]), "recall": _clean(r[i]), "f1": _clean(f[i]),
             "support": int(s[i])} for i, c in enumerate(classes)]


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> list[list[int]]:
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y_true, y_pred, labels=list(range(n_classes))).tolist()


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    from sklearn import metrics as m

    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    nonzero = np.abs(y_true) > 1e-12
    mape = float(np.mean(np.abs((y_true[nonzero] - y_pred[nonzero]) / y_true[nonzero]))) if nonzero.any() else None
    out = {
        "rmse": float(np.sqrt(m.mean_squared_error(y_true, y_pred))),
        "mae": m.mean_absolute_error(y_true, y_pred),
        "r2": m.r2_score(y_true, y_pred) if len(y_true) > 1 else None,
        "mape": mape,
    }
    return {k: _clean(v) if v is not None else None for k, v in out.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


IMBALANCED_RATIO = 3.0  # majority/minority class size above which reports lead with the minority class


def minority_summary(y_true: np.ndarray, proba: np.ndarray | None, per_class_rows: list[dict[str, Any]],
                     metrics: dict[str, Any]) -> dict[str, Any] | None:
    """Minority-class precision/recall/F1 and PR AUC, when the classes are imbalanced (else None)."""
    from sklearn.metrics import average_precision_score

    counts = np.bincount(y_true, minlength=len(per_class_rows))
    present = counts[counts > 0]
    if len(present) < 2 or present.max() / present.min() < IMBALANCED_RATIO:
        return None
    k = int(np.argmin(np.where(counts > 0, counts, np.iinfo(np.int64).max)))
    row = per_class_rows[k]
    pr_auc = None
    if proba is not None:
        pr_auc = _clean(average_precision_score((y_true == k).astype(int), proba[:, k]))
    return {"class": row["class"], "support": row["support"],
            "imbalance_ratio": round(float(present.max() / present.min()), 3),
            "precision": row["precision"], "recall": row["recall"], "f1": row["f1"], "pr_auc": pr_auc,
            "balanced_accuracy": metrics.get("balanced_accuracy")}


def main_score(task: str, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, n_classes: int
               ) -> tuple[str, float]:
    """(metric name, value) of the task's main metric (metrics.MAIN_METRIC); accuracy when a binary model
    gives no probabilities."""
    from sklearn import metrics as m

    key = MAIN_METRIC[task]
    if key == "roc_auc":
        if proba is None:
            return "accuracy", float(m.accuracy_score(y, pred))
        return key, float(m.roc_auc_score(y, proba[:, 1]))
    if key == "f1_macro":
        return key, float(m.f1_score(y, pred, average="macro", labels=scored_classes(y, pred), zero_division=0))
    if key == "rmse":
        return key, float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(pred, float)) ** 2)))
    raise AssertionError(key)


def metric_names(task: str) -> list[str]:
    """The metrics the task reports (the same set as train), asked of the metrics module itself."""
    if task == "regression":
        return list(regression_metrics(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 1.5])))
    k = 2 if task == "binary" else 3
    y = np.arange(k).repeat(2)
    proba = np.full((len(y), k), 1.0 / k)
    return list(classification_metrics(y, y, proba, k))


_METRIC_ALIASES = {"auc": "roc_auc", "rocauc": "roc_auc", "f1macro": "f1_macro", "acc": "accuracy",
                   "r²": "r2", "logloss": "log_loss", "average_precision": "pr_auc",
                   "brierscore": "brier", "brierscoreloss": "brier", "calibrationerror": "ece"}


def resolve_metric(metric: str | None, task: str) -> str:
    names = metric_names(task)
    if metric is None:
        return MAIN_METRIC[task]
    key = metric.strip().lower().replace("-", "_")
    key = _METRIC_ALIASES.get(key.replace("_", ""), _METRIC_ALIASES.get(key, key))
    if key == "f1" and task == "multiclass":
        key = "f1_macro"
    if key not in names:
        raise ConfigError(f"--metric '{metric}' is not reported for {task} tasks{did_you_mean(key, names)}; "
                          f"choose one of: {', '.join(names)}")
    return key


def higher_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def scored_classes(y_true: Any, y_pred: Any) -> list[int]:
    """The classes macro averages run over: those in the true labels or the predictions (scikit-learn's own
    choice when no labels are given). A class absent from both — a class of one row kept for training, a rare
    class a small hold-out missed — is not counted as a 0 that would pull every macro score down."""
    return sorted(set(np.unique(y_true).tolist()) | set(np.unique(y_pred).tolist()))
