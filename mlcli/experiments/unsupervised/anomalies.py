"""mlcli anomalies: an anomaly score for every row (higher: more unusual), a flag on the top --contamination
share, the most unusual rows with the columns that make them so, and, against a known label, ROC AUC and
PR AUC beside the no-skill level.

Scores: isolation forest, the negated ``score_samples`` (short average path length); LOF, the negated
``negative_outlier_factor_``; one-class SVM, the negated ``score_samples``; autoencoder, the reconstruction
error of each row.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Notify, quiet
from mlcli.errors import ConfigError, DataError, MissingDependency, quote_list
from mlcli.experiments.unsupervised.data import (
    UnsupervisedRequest,
    fit_matrix,
    fit_threads,
    fitting,
    free_name,
    kept_columns,
    load,
    thread_limit,
)
from mlcli.models.unsupervised import check_method_params, get_method, make_method


@dataclass
class AnomalyRequest(UnsupervisedRequest):
    contamination: float = 0.05
    top: int = 10
    positive: str | None = None  # the --label value that marks a known anomaly (default: the rarer of two)


@dataclass
class AnomalyResult:
    doc: dict[str, Any]
    rows: pd.DataFrame
    scores: np.ndarray
    known: np.ndarray | None  # 1 for a known anomaly (--label), 0 otherwise, NaN where the label is missing


def _check(spec: Any, req: AnomalyRequest) -> None:
    if not spec.installed():
        raise MissingDependency(spec.install, f"anomalies method '{spec.name}'", spec.extra)
    if not 0.0 < req.contamination <= 0.5:
        raise ConfigError(f"--contamination is the share of rows to flag, in (0, 0.5]; got {req.contamination}")
    if req.top < 0:
        raise ConfigError(f"--top must be 0 or more, got {req.top}")
    if req.positive is not None and not req.label:
        raise ConfigError("--positive names the --label value of a known anomaly; give --label COL too")
    check_method_params(spec, req.params)


def anomaly_scores(spec: Any, req: AnomalyRequest, Z: np.ndarray, threads: int) -> tuple[np.ndarray, dict]:
    """(score per row, higher = more unusual; facts about the fit worth reporting)."""
    if spec.name == "autoencoder":
        est = make_method(spec, req.params, seed=req.seed, extra={"threads": threads})
        est.fit(Z)
        return est.score_samples(Z), {"epochs": est.n_epochs_, "best_epoch": est.best_epoch_,
                                      "validation_loss": round(float(est.validation_loss_), 6)}
    extra = {"contamination": req.contamination, "nu": req.contamination}
    if spec.name == "lof":
        extra["n_neighbors"] = min(20, len(Z) - 1)
    est = make_method(spec, req.params, seed=req.seed, threads=req.threads, extra=extra)
    if spec.name == "lof":
        est.fit(Z)
        return -est.negative_outlier_factor_, {}
    est.fit(Z)
    return -est.score_samples(Z), {}


def known_anomalies(label: pd.Series, positive: str | None) -> tuple[np.ndarray, str]:
    """(1.0 known anomaly / 0.0 not / NaN missing per row, the positive value): the rarer of two values unless
    --positive names one."""
    text = label.astype("object").where(label.notna()).map(lambda v: None if v is None else _text(v))
    counts = text.value_counts()
    if positive is None:
        if len(counts) != 2:
            raise DataError(f"--label '{label.name}' has {len(counts)} values ({quote_list(counts.index, 6)}); "
                            "say which marks a known anomaly with --positive VALUE")
        positive = str(counts.index[-1])
    elif positive not in counts.index:
        raise DataError(f"--positive '{positive}' is not a value of '{label.name}'; its values: "
                        f"{quote_list(counts.index, 10)}")
    known = np.where(text.isna(), np.nan, (text == positive).astype(float))
    return known, positive


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v.item() if isinstance(v, np.generic) else v)


def against_label(scores: np.ndarray, flags: np.ndarray, known: np.ndarray, column: str, positive: str
                  ) -> dict[str, Any]:
    """ROC AUC and PR AUC (average precision) of the score, beside the no-skill PR AUC (the share of known
    anomalies), and the precision and recall of the flag."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    mask = ~np.isnan(known)
    y, s, f = known[mask].astype(int), scores[mask], flags[mask]
    if y.min() == y.max():
        raise DataError(f"--label '{column}': every labelled row is {'' if y[0] else 'not '}'{positive}'; "
                        "ROC and PR AUC need both")
    share = float(y.mean())
    return {"column": column, "positive": positive, "rows": int(mask.sum()), "known": int(y.sum()),
            "roc_auc": round(float(roc_auc_score(y, s)), 4), "pr_auc": round(float(average_precision_score(y, s)), 4),
            "no_skill_pr_auc": round(share, 4),
            "precision_at_flag": round(float(y[f].mean()), 4) if f.any() else None,
            "recall_at_flag": round(float(f[y == 1].mean()), 4)}


def run_anomalies(req: AnomalyRequest, notify: Notify = quiet, stdin: Any = None) -> AnomalyResult:
    """Score every row of ``req.data``."""
    from mlcli.experiments.unsupervised.profile import unusual_columns

    t0 = time.perf_counter()
    spec = get_method("anomalies", req.method)
    _check(spec, req)
    loaded = load(req, notify, stdin, "anomalies")
    known, positive = known_anomalies(loaded.label, req.positive) if loaded.label is not None else (None, None)
    pre, Z = fit_matrix(loaded, req.scale)
    if spec.name == "one-class-svm" and len(Z) > 20000:
        notify(f"one-class SVM on {len(Z)} rows: its kernel grows with rows squared, expect minutes; "
               "isolation-forest scales to millions")
    with thread_limit(req.threads, Z), fitting(spec):
        scores, fit_info = anomaly_scores(spec, req, Z, fit_threads(req.threads, Z))
    n_flag = max(1, math.ceil(req.contamination * len(scores) - 1e-9))
    order = np.argsort(-scores, kind="stable")
    flags = np.zeros(len(scores), dtype=bool)
    flags[order[:n_flag]] = True
    top = order[:req.top]
    reasons = unusual_columns(loaded.frame, loaded.schema, top)
    doc: dict[str, Any] = {
        "command": "anomalies", "model": spec.name, "method": spec.name, "task": "anomalies",
        "source": loaded.source, "rows": len(Z), "features": int(Z.shape[1]),
        "columns": [c.name for c in loaded.schema.used], "params": req.params, "contamination": req.contamination,
        "flagged": int(flags.sum()), "threshold": round(float(scores[order[n_flag - 1]]), 6), "fit": fit_info,
        "top": [{"row": int(i) + 1, "score": round(float(scores[i]), 6), "unusual": why}
                for i, why in zip(top, reasons)],
    }
    doc["label"] = against_label(scores, flags, known, loaded.label.name, positive) if known is not None else None
    doc["metrics"] = {"flagged": doc["flagged"]}
    if doc["label"]:
        doc["metrics"].update({k: doc["label"][k] for k in ("roc_auc", "pr_auc", "no_skill_pr_auc")})
    rows = kept_columns(loaded, req.keep)
    rows[free_name(rows, "anomaly_score")] = np.round(scores, 6)
    rows[free_name(rows, "anomaly")] = flags.astype(int)
    doc["seconds"] = round(time.perf_counter() - t0, 3)
    return AnomalyResult(doc, rows, scores, known)
