"""Feature provenance: for each feature a fitted pipeline's model sees, the user column it came from and a
readable label. Defined once: importances, SHAP values and coefficients are all mapped back through it.

The preprocessor (``mlcli.features.preprocess``) names its ColumnTransformer branches with :func:`branch`:
``num`` for the numeric columns together, ``KIND:COLUMN`` for one categorical, text, date or embedded column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUMERIC = "num"
INTERACTIONS = "(interactions)"  # a --poly feature made of several columns


def branch(kind: str, column: str | None = None) -> str:
    """The ColumnTransformer branch name for ``kind`` (num, or cat/text/date/embed of one column)."""
    return NUMERIC if kind == NUMERIC else f"{kind}:{column}"


def preprocessor_of(pipeline: Any) -> Any:
    return pipeline.named_steps["preprocess"]


def column_transformer(pre: Any) -> Any:
    return pre.named_steps["columns"] if hasattr(pre, "named_steps") and "columns" in pre.named_steps else pre


def has_pca(pre: Any) -> bool:
    return hasattr(pre, "named_steps") and "pca" in pre.named_steps


def model_input(pipeline: Any, X: Any) -> Any:
    """X transformed by every step before the model; resamplers are skipped, as they are at predict time."""
    for _, step in pipeline.steps[:-1]:
        if step is None or step == "passthrough" or hasattr(step, "fit_resample"):
            continue
        X = step.transform(X)
    return X


def feature_origins(preprocessor: Any) -> list[tuple[str, str]]:
    """(user column, readable label) for each output feature of a fitted preprocessor: 'Age', 'Age (missing)',
    'Sex=female', "Name: 'mrs'", 'date.month'; PCA components and --poly interactions are named in brackets."""
    if has_pca(preprocessor):
        k = preprocessor.named_steps["pca"].pca_.n_components_
        return [(f"(PCA component {i + 1})",) * 2 for i in range(k)]
    ct = column_transformer(preprocessor)
    out: list[tuple[str, str]] = [("", "")] * sum(s.stop - s.start for s in ct.output_indices_.values())
    for name, trans, cols in ct.transformers_:
        if name == "remainder" or trans == "drop" or name not in ct.output_indices_:
            continue
        idx = ct.output_indices_[name]
        out[idx.start:idx.stop] = _branch_origins(name, trans, [str(c) for c in cols], idx.stop - idx.start)
    return out


def _branch_origins(name: str, trans: Any, cols: list[str], width: int) -> list[tuple[str, str]]:
    try:
        feats = [str(f) for f in trans.get_feature_names_out(cols)]
    except Exception:  # a step without feature names: the column stands for itself
        feats = None
    if feats is None or len(feats) != width:
        column = cols[0] if name != NUMERIC and cols else INTERACTIONS
        return [(column, column)] * width
    if name == NUMERIC:
        return [_numeric_origin(f, cols) for f in feats]
    kind, _, column = name.partition(":")
    if kind == "cat":
        return [(column, f"{column}={f.removeprefix(f'{column}_')}" if f != column else column) for f in feats]
    if kind == "text":
        return [(column, f"{column}: '{f}'") for f in feats]
    if kind == "date":
        return [(column, f"{column}.{f}") for f in feats]
    return [(column, f or column) for f in feats]


def _numeric_origin(feature: str, cols: list[str]) -> tuple[str, str]:
    if feature.startswith("missingindicator_"):
        column = feature.removeprefix("missingindicator_")
        return column, f"{column} (missing)"
    if feature in cols:
        return feature, feature
    parts = {p.split("^")[0] for p in feature.split(" ")}
    matched = [c for c in cols if c in parts]
    return (matched[0] if len(matched) == 1 else INTERACTIONS), feature


def feature_sources(preprocessor: Any) -> list[str]:
    """For each output feature of a fitted preprocessor, the user column it came from."""
    return [source for source, _ in feature_origins(preprocessor)]


def model_input_sources(pipeline: Any) -> list[str]:
    """For each feature the model of a fitted mlcli pipeline sees, the user column it came from.

    Handles the optional steps between preprocessing and the model: a resampler (no change to columns) and
    the one-hot ``encode`` step that follows SMOTE-NC.
    """
    steps = dict(pipeline.steps)
    sources = feature_sources(steps["preprocess"])
    encode = steps.get("encode")
    if encode is not None:
        onehot = encode.named_transformers_["onehot"]
        n_cat = len(onehot.categories_)
        expanded = [src for src, cats in zip(sources[:n_cat], onehot.categories_) for _ in cats]
        sources = expanded + sources[n_cat:]
    return sources


def sources_of(pipeline: Any) -> list[str] | None:
    """The user column behind each model feature; None when the preprocessing cannot say (a text-only model)."""
    try:
        return model_input_sources(pipeline)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def feature_labels(pipeline: Any) -> list[str]:
    """A readable name per model feature (the user column alone after SMOTE-NC's re-encoding)."""
    if "encode" in pipeline.named_steps:
        return sources_of(pipeline) or []
    try:
        return [label for _, label in feature_origins(preprocessor_of(pipeline))]
    except (AttributeError, KeyError, TypeError, ValueError):
        return sources_of(pipeline) or []


def standardised_features(pipeline: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per model feature: (comes out of a StandardScaler, comes from a numeric or date column)."""
    from sklearn.preprocessing import StandardScaler

    pre = preprocessor_of(pipeline)
    if has_pca(pre):
        k = pre.named_steps["pca"].pca_.n_components_
        return np.zeros(k, dtype=bool), np.zeros(k, dtype=bool)
    ct = column_transformer(pre)
    n_out = sum(s.stop - s.start for s in ct.output_indices_.values())
    scaled, numeric = np.zeros(n_out, dtype=bool), np.zeros(n_out, dtype=bool)
    for name, trans, _ in ct.transformers_:
        if name not in ct.output_indices_:
            continue
        idx = ct.output_indices_[name]
        last = trans.steps[-1][1] if hasattr(trans, "steps") else trans
        scaled[idx.start:idx.stop] = isinstance(last, StandardScaler)
        numeric[idx.start:idx.stop] = name == NUMERIC or name.startswith("date:")
    return scaled, numeric
