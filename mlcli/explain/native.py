"""Native importances: the model's own (gain / split for XGBoost and LightGBM, prediction-value change for
CatBoost, impurity decrease for scikit-learn trees, coefficients on standardised features for linear models),
summed back to user columns.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.schema import Schema
from mlcli.errors import ConfigError
from mlcli.explain.results import Importance, MethodResult, column_aggregator, column_order, round_or_none, set_shares
from mlcli.features.provenance import feature_labels, model_input, sources_of, standardised_features
from mlcli.models.registry import explainer_of
from mlcli.models.steps import final_model, target_transform, unwrap

IMPORTANCE_TYPES = ("gain", "split", "cover", "total_gain")


def _native_values(pipeline: Any, importance_type: str | None, X: pd.DataFrame | None
                   ) -> tuple[np.ndarray, str, str] | None:
    """(values, kind, measure) per model feature, or None when the model has no importances of its own.

    kind 'share' -> non-negative importances (gain, impurity ...); kind 'coef' -> signed coefficients (k, p)
    on standardised features.
    """
    model = final_model(pipeline)
    est = unwrap(model)  # the library's own estimator, inside calibration or a target transform
    route = explainer_of(est)
    if importance_type is not None and route not in ("xgboost", "lightgbm"):
        raise ConfigError(f"--importance-type applies to xgboost and lightgbm models only, not "
                          f"'{type(est).__name__}'")
    if route in ("xgboost", "lightgbm", "catboost"):
        return _booster_values(est, route, importance_type or "gain")
    if hasattr(est, "feature_importances_"):
        try:
            values = np.asarray(est.feature_importances_, dtype=float)
        except (AttributeError, ValueError):
            values = None
        if values is not None:
            return values, "share", "share of total impurity decrease in the trees"
    try:
        coef = getattr(est, "coef_", None)
    except (AttributeError, ValueError):  # SVC.coef_ exists only for the linear kernel
        coef = None
    return None if coef is None else _coefficients(pipeline, model, est, coef, X)


def _booster_values(model: Any, route: str, itype: str) -> tuple[np.ndarray, str, str]:
    """Gain / split / cover importances from XGBoost and LightGBM, prediction-value change from CatBoost."""
    if route == "xgboost":
        booster = model.get_booster()
        scores = booster.get_score(importance_type={"split": "weight"}.get(itype, itype))
        names = booster.feature_names
        values = np.zeros(booster.num_features())
        for key, v in scores.items():
            values[names.index(key) if names else int(key.lstrip("f"))] = v
        return values, "share", f"share of total {itype.replace('_', ' ')} in the trees"
    if route == "lightgbm":
        if itype not in ("gain", "split"):
            raise ConfigError(f"--importance-type for lightgbm is gain or split, not '{itype}'")
        values = np.asarray(model.booster_.feature_importance(importance_type=itype), dtype=float)
        return values, "share", f"share of total {'gain' if itype == 'gain' else 'splits'} in the trees"
    return (np.asarray(model.get_feature_importance(), dtype=float), "share",
            "share of total prediction-value change (CatBoost)")


def _coefficients(pipeline: Any, model: Any, est: Any, coef: Any, X: pd.DataFrame | None
                  ) -> tuple[np.ndarray, str, str]:
    """A linear model's coefficients per standard deviation of each numeric feature (in target units when the
    target was standardised for fitting), and what they measure."""
    coef = np.atleast_2d(np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=float))
    target_factor, target_unit = target_transform(model)
    coef = coef * target_factor
    scale = np.ones(coef.shape[1])
    standardised, numeric = standardised_features(pipeline)
    rescale = numeric & ~standardised
    if len(rescale) == coef.shape[1] and X is not None and rescale.any():
        # numeric features the pipeline did not standardise (--scale minmax/robust/none): scale their
        # coefficients by the feature's standard deviation in the data given
        Xt = model_input(pipeline, X)
        for j in np.flatnonzero(rescale):
            col = Xt[:, [j]]
            col = col.toarray() if hasattr(col, "toarray") else np.asarray(col, dtype=float)
            sd = float(np.nanstd(col))
            scale[j] = sd if sd > 0 else 1.0
    is_logistic = type(est).__name__ == "LogisticRegression"
    unit = "log-odds" if is_logistic else ("decision value" if type(est).__module__.startswith("sklearn.svm")
                                           else target_unit or "target units")
    if len(rescale) == coef.shape[1] and X is None and rescale.any():
        measure = (f"largest |coefficient| among the column's terms ({unit}; the numeric columns were not "
                   "standardised: give DATA to compare them per standard deviation)")
    else:
        measure = (f"largest |coefficient| among the column's terms, on standardised numeric features ({unit} "
                   "per standard deviation)")
    return coef * scale, "coef", measure


def _strongest_term(magnitude: np.ndarray, sources: list[str], columns: list[str]) -> list[float]:
    """Per user column, the largest |coefficient| among its terms (a one-hot category, a text token ...):
    summing would make a column with thousands of TF-IDF terms look important for having many terms."""
    best = dict.fromkeys(columns, 0.0)
    for src, v in zip(sources, magnitude):
        best[src] = max(best[src], float(v))
    return [best[c] for c in columns]


def has_native(pipeline: Any) -> bool:
    return _native_values(pipeline, None, None) is not None


def _direction_of_terms(terms: list[tuple[str, float]], single_numeric: bool) -> str | None:
    if not terms:
        return None
    if single_numeric:
        return "+" if terms[0][1] > 0 else ("-" if terms[0][1] < 0 else None)
    label, value = max(terms, key=lambda t: t[1])
    return f"highest for {_term_value(label)}" if value > 0 else None


def _term_value(label: str) -> str:
    if "=" in label:
        return label.split("=", 1)[1]
    if ": " in label:
        return label.split(": ", 1)[1]
    return label


def native(pipeline: Any, schema: Schema, task: str, model_name: str, importance_type: str | None = None,
           X: pd.DataFrame | None = None) -> MethodResult:
    """The model's own importances summed back to user columns, largest first."""
    t0 = time.perf_counter()
    got = _native_values(pipeline, importance_type, X)
    if got is None:
        raise ConfigError(f"model '{model_name}' has no native feature importances; use --method permutation "
                          "(or shap) with labelled DATA")
    values, kind, measure = got
    sources = sources_of(pipeline) or []
    if len(sources) != values.shape[-1]:
        raise ConfigError(f"model '{model_name}' reports {values.shape[-1]} importances for {len(sources)} "
                          "features; its native importances cannot be mapped to columns: use --method permutation")
    columns = column_order(schema, sources)
    items: list[Importance] = []
    details: dict[str, Any] = {}
    if kind == "share":
        totals = np.asarray(values @ column_aggregator(sources, columns).toarray()).ravel()
        total = totals.sum() or 1.0
        items = [Importance(c, float(v / total)) for c, v in zip(columns, totals)]
    else:
        labels = feature_labels(pipeline)
        per_col = _strongest_term(np.abs(values).mean(axis=0), sources, columns)
        binaryish = values.shape[0] == 1
        logistic = "log-odds" in measure
        roles = {c.name: c.role for c in schema.columns}
        for j, col in enumerate(columns):
            idx = [i for i, s in enumerate(sources) if s == col]
            terms = sorted(((labels[i], float(values[0, i])) for i in idx), key=lambda t: -abs(t[1])) \
                if binaryish else []
            single = roles.get(col) == "numeric" and len([t for t in terms if not t[0].endswith("(missing)")]) == 1
            if single:
                terms = [t for t in terms if not t[0].endswith("(missing)")] + \
                        [t for t in terms if t[0].endswith("(missing)")]
            term_docs = [{"feature": lab, "coefficient": round_or_none(v), **({"odds_ratio": round_or_none(math.exp(v))}
                                                                         if logistic else {})}
                         for lab, v in terms[:10]]
            items.append(Importance(col, float(per_col[j]), None, _direction_of_terms(terms, single), 0.0,
                                    term_docs or None))
        details["coefficients"] = "binary" if binaryish and task != "regression" else (
            "regression" if task == "regression" else "averaged over classes")
        if logistic and binaryish:
            details["odds_ratios"] = True
    set_shares(items)
    items.sort(key=lambda i: -i.importance)
    details.setdefault("kind", kind)
    return MethodResult("native", measure, items, time.perf_counter() - t0, details)


def native_importances(pipeline: Any) -> list[dict[str, Any]]:
    """The model's own importances as shares of the total per user column, largest first ([] if it has none).

    The compact form the train and cv reports show; ``mlcli explain`` gives the full picture.
    """
    try:
        got = _native_values(pipeline, None, None)
    except ConfigError:
        return []
    if got is None:
        return []
    values, kind, _ = got
    sources = sources_of(pipeline) or []
    if len(sources) != values.shape[-1]:
        return []
    if kind == "coef":
        columns = list(dict.fromkeys(sources))
        totals = dict(zip(columns, _strongest_term(np.abs(values).mean(axis=0), sources, columns)))
    else:
        totals = {}
        for src, v in zip(sources, values):
            totals[src] = totals.get(src, 0.0) + float(v)
    total = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return [{"feature": k, "importance": round(v / total, 6)} for k, v in ranked]
