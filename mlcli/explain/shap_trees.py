"""TreeSHAP for the tree libraries (their own contributions) and scikit-learn trees (shap.TreeExplainer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcli.explain.shap_common import import_shap
from mlcli.models.registry import explainer_of
from mlcli.models.steps import final_model


def _dense(Xt: Any) -> np.ndarray:
    return Xt.toarray() if hasattr(Xt, "toarray") else np.asarray(Xt)


def _chunks(n: int, p: int, budget: int = 4_000_000):
    step = max(1, budget // max(p, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _as_nkp(arr: np.ndarray, n: int, k: int, p: int) -> np.ndarray:
    """Contributions (with the bias as the last feature) reshaped to (n, k, p)."""
    arr = np.asarray(arr, dtype=float)
    if arr.ndim == 2 and k > 1:
        arr = arr.reshape(n, k, p)
    elif arr.ndim == 2:
        arr = arr[:, None, :]
    return arr


def tree_contributions(pipeline: Any, Xt: Any, task: str, k: int) -> tuple[np.ndarray, np.ndarray, str, str]:
    """(contribs (n, k, p+1) with the bias last, model output (n, k), kind, explainer) for tree libraries."""
    model = final_model(pipeline)
    kind = explainer_of(model)
    n = Xt.shape[0]
    if kind == "xgboost":
        import xgboost as xgb

        booster = model.get_booster()
        p = booster.num_features()
        contrib = booster.predict(xgb.DMatrix(Xt, missing=model.missing), pred_contribs=True)
        margin = model.predict(Xt, output_margin=True)
        explainer = "XGBoost pred_contribs (TreeSHAP)"
    elif kind == "lightgbm":
        p = model.n_features_in_
        raw = model.predict(Xt, pred_contrib=True)
        if isinstance(raw, list):  # sparse multiclass input: one sparse matrix per class
            raw = np.stack([_dense(m) for m in raw], axis=1)
        contrib = _dense(raw)
        margin = model.predict(Xt, raw_score=True)
        explainer = "LightGBM pred_contrib (TreeSHAP)"
    else:  # catboost
        from catboost import Pool

        p = Xt.shape[1]
        pool = Pool(Xt, cat_features=model.get_cat_feature_indices())
        contrib = model.get_feature_importance(pool, type="ShapValues")
        margin = model.predict(Xt, prediction_type="RawFormulaVal")
        explainer = "CatBoost ShapValues (TreeSHAP)"
    contrib = _as_nkp(contrib, n, k, p + 1)
    if contrib.shape[1] != k:  # e.g. a binary model explained with one output already
        contrib = contrib[:, -k:, :]
    margin = np.asarray(margin, dtype=float).reshape(n, -1)[:, -k:]
    kind_name = "prediction" if task == "regression" else ("log-odds" if task == "binary" else "raw score")
    return contrib, margin, kind_name, explainer


def tree_depth(model: Any) -> int:
    """The deepest tree of a scikit-learn tree model (0 when unknown: histogram boosting keeps trees small)."""
    if hasattr(model, "tree_"):
        return int(model.tree_.max_depth)
    trees = getattr(model, "estimators_", None)
    if trees is None:
        return 0
    return max((int(t.tree_.max_depth) for t in np.ravel(np.asarray(trees, dtype=object))), default=0)


def sklearn_tree_contributions(pipeline: Any, Xt: Any, task: str, k: int, Xt_background: Any = None
                                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    """(contribs (n, k, p), base (n, k), output (n, k), kind, explainer) through shap's TreeExplainer.

    Path-dependent TreeSHAP (no background) for shallow trees; interventional TreeSHAP on a background sample
    for deep ones (fully grown forests on many features), where the path-dependent sums lose all precision.
    """
    shap = import_shap("SHAP for scikit-learn tree models")
    model = final_model(pipeline)
    boosted = type(model).__name__.startswith(("HistGradientBoosting", "GradientBoosting"))
    n, p = Xt.shape
    if Xt_background is None:
        explainer = shap.TreeExplainer(model, model_output="raw")
        how, chunks = "shap TreeExplainer (path-dependent)", _chunks(n, p)
    else:
        bg = _dense(Xt_background).astype(np.float64)
        explainer = shap.TreeExplainer(model, data=bg, feature_perturbation="interventional", model_output="raw")
        how = f"shap TreeExplainer (interventional, {len(bg)} background rows)"
        chunks = (slice(i, min(n, i + 32)) for i in range(0, n, 32))  # short calls: shap prints no progress bar
    parts = []
    for sl in chunks:
        dense = _dense(Xt[sl]).astype(np.float64)
        sv = np.asarray(explainer.shap_values(dense, check_additivity=False), dtype=float)
        if sv.ndim == 2:
            sv = sv[:, None, :]
        else:
            sv = np.transpose(sv, (0, 2, 1))  # (n, p, k) -> (n, k, p)
        parts.append(sv)
    values = np.concatenate(parts, axis=0)
    base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float)).ravel()
    if task == "binary" and values.shape[1] == 2:
        values, base = values[:, 1:, :], base[1:]
    base = np.broadcast_to(base, (n, values.shape[1])).copy()
    if task == "regression":
        output, kind = np.asarray(model.predict(_dense(Xt)), dtype=float).reshape(n, 1), "prediction"
    elif boosted:
        output = np.asarray(model.decision_function(_dense(Xt)), dtype=float).reshape(n, -1)
        kind = "log-odds" if task == "binary" else "raw score"
    else:
        output = np.asarray(model.predict_proba(_dense(Xt)), dtype=float)
        output = output[:, 1:] if task == "binary" else output
        kind = "probability"
    return values, base, output, kind, how
