"""SHAP contributions summed back to user columns: XGBoost / LightGBM / CatBoost through their own TreeSHAP,
scikit-learn trees through ``shap.TreeExplainer``, every other model through shap's model-agnostic
KernelExplainer over the raw user columns on a small background sample. The route is the model's registry
entry (``ModelSpec.explainer``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.schema import Schema
from mlcli.explain.results import (
    Importance,
    MethodResult,
    ShapValues,
    column_aggregator,
    column_order,
    round_or_none,
    set_shares,
)
from mlcli.explain.shap_kernel import kernel_contributions
from mlcli.explain.shap_trees import sklearn_tree_contributions, tree_contributions, tree_depth
from mlcli.features.provenance import has_pca, model_input, preprocessor_of, sources_of
from mlcli.models.registry import explainer_of
from mlcli.models.steps import final_model

MISSING = "(missing)"  # the group of missing values in a categorical column's direction
DEEP_TREE = 30  # shap's path-dependent TreeSHAP loses precision on deeper trees: use a background sample


def _n_outputs(task: str, classes: list[Any]) -> int:
    return len(classes) if task == "multiclass" else 1


def _output_names(kind: str, task: str, target: str, classes: list[Any]) -> list[str]:
    if task == "regression":
        return [f"predicted {target}"]
    if task == "binary":
        return [f"{kind} of {target}={classes[1]}"]
    return [f"{kind} of {target}={c}" for c in classes]


def shap_values(pipeline: Any, schema: Schema, X: pd.DataFrame, task: str, classes: list[Any], *,
                background: pd.DataFrame | None = None, seed: int = 42, rows: np.ndarray | None = None
                ) -> ShapValues:
    """SHAP contributions of every row of ``X`` per user column (see :class:`ShapValues`)."""
    k = _n_outputs(task, classes)
    rows = np.arange(len(X)) if rows is None else rows
    if not _agnostic_only(pipeline):
        sources = sources_of(pipeline)
        assert sources is not None
        columns = column_order(schema, sources)
        agg = column_aggregator(sources, columns)
        Xt = model_input(pipeline, X)
        if explainer_of(final_model(pipeline)) == "tree":
            Xt_bg = None if background is None or not needs_background(pipeline) else model_input(pipeline, background)
            vals, base, output, out_kind, explainer = sklearn_tree_contributions(pipeline, Xt, task, k, Xt_bg)
            feat = vals
        else:
            contrib, output, out_kind, explainer = tree_contributions(pipeline, Xt, task, k)
            feat, base = contrib[:, :, :-1], contrib[:, :, -1]
        n, kk, p = feat.shape
        values = np.asarray((feat.reshape(n * kk, p) @ agg).reshape(n, kk, len(columns)))
        return ShapValues(values, base, output, columns, _output_names(out_kind, task, schema.target, classes),
                          out_kind, explainer, rows)
    if background is None:
        background = X
    values, base, output, out_kind, explainer = kernel_contributions(pipeline, schema, X, background, task, seed)
    return ShapValues(values, base, output, list(X.columns), _output_names(out_kind, task, schema.target, classes),
                      out_kind, explainer, rows)


def needs_shap_package(pipeline: Any) -> bool:
    """XGBoost, LightGBM and CatBoost compute SHAP values themselves; every other model needs ``shap``."""
    return _agnostic_only(pipeline) or explainer_of(final_model(pipeline)) == "tree"


def needs_background(pipeline: Any) -> bool:
    """Whether SHAP for this model compares with a background sample (and is slower)."""
    model = final_model(pipeline)
    return _agnostic_only(pipeline) or (explainer_of(model) == "tree" and tree_depth(model) > DEEP_TREE)


def _agnostic_only(pipeline: Any) -> bool:
    """True unless a tree library's own SHAP applies and its features map back to user columns."""
    if explainer_of(final_model(pipeline)) == "kernel":
        return True
    sources = sources_of(pipeline)
    return sources is None or has_pca(preprocessor_of(pipeline)) or any(s.startswith("(") for s in sources)


def _direction(values: np.ndarray, raw: pd.Series | None, role: str | None) -> str | None:
    """How a column pushes the output: '+'/'-' (higher values raise/lower it), 'mixed', or for categorical
    columns the value that raises it most ('highest for female'; missing values are the group '(missing)').
    None when it cannot tell: too few rows, a column whose contributions never vary, or another role."""
    if raw is None or len(values) < 3 or np.std(values) == 0:
        return None
    if role == "numeric":
        return _numeric_direction(values, raw)
    if role == "categorical":
        return _categorical_direction(values, raw)
    return None


def _numeric_direction(values: np.ndarray, raw: pd.Series) -> str | None:
    x = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x)
    if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(values[ok]) == 0:
        return None
    r = float(np.corrcoef(x[ok], values[ok])[0, 1])
    return "+" if r > 0.2 else ("-" if r < -0.2 else "mixed")


def _categorical_direction(values: np.ndarray, raw: pd.Series) -> str | None:
    """The group with the highest mean contribution, among groups of at least 2 rows (and 1 %), when there are
    two or more. The values become plain strings first: a pandas Categorical cannot take a new '(missing)'
    level in place."""
    labels = raw.astype(object).where(raw.notna(), MISSING).astype(str).to_numpy()
    s = pd.Series(values).groupby(labels).agg(["mean", "size"])
    s = s[s["size"] >= max(2, 0.01 * len(values))]
    if len(s) < 2:
        return None
    return f"highest for {s['mean'].idxmax()}"


def shap_summary(sv: ShapValues, X: pd.DataFrame, schema: Schema) -> MethodResult:
    roles = {c.name: c.role for c in schema.columns}
    absval = np.abs(sv.values)  # (n, k, M)
    per_row = absval.mean(axis=1)  # (n, M)
    items = []
    for j, col in enumerate(sv.columns):
        direction = None
        if sv.values.shape[1] == 1 and col in X.columns:
            direction = _direction(sv.values[:, 0, j], X[col].reset_index(drop=True), roles.get(col))
        items.append(Importance(col, float(per_row[:, j].mean()), float(per_row[:, j].std()), direction))
    set_shares(items)
    items.sort(key=lambda i: -i.importance)
    over = " averaged over classes" if sv.values.shape[1] > 1 else ""
    measure = f"mean |SHAP contribution| to the {sv.kind}{over} (spread: std over rows)"
    return MethodResult("shap", measure, items, 0.0,
                        {"explainer": sv.explainer, "output": sv.outputs[0] if len(sv.outputs) == 1 else sv.kind,
                         "rows": int(len(sv.rows)), "base_value": round_or_none(float(sv.base[:, 0].mean()))
                         if sv.values.shape[1] == 1 else None})
