"""Feature provenance: for each feature a fitted pipeline's model sees, the user column it came from and a
readable label. Defined once; importances, SHAP values and coefficients are all mapped back through it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline


def model_input_sources(pipeline) -> list[str]:
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


def model_input(pipeline, X):
    """X transformed by every step before the model (resamplers are skipped at transform time)."""
    return pipeline[:-1].transform(X)


def feature_sources(preprocessor) -> list[str]:
    """For each output feature of a fitted preprocessor, the user column it came from."""
    ct = preprocessor.named_steps["columns"] if isinstance(preprocessor, Pipeline) else preprocessor
    if isinstance(preprocessor, Pipeline) and "pca" in preprocessor.named_steps:
        return [f"(PCA component {i + 1})" for i in range(preprocessor.named_steps["pca"].pca_.n_components_)]
    n_out = sum(s.stop - s.start for s in ct.output_indices_.values())
    sources = [""] * n_out
    for name, trans, cols in ct.transformers_:
        if name == "remainder" or trans == "drop":
            continue
        idx = ct.output_indices_[name]
        if name == "num":
            names = list(trans.get_feature_names_out(list(cols)))
            for i, feat in enumerate(names):
                sources[idx.start + i] = _numeric_source(str(feat), list(cols))
        else:
            for i in range(idx.start, idx.stop):
                sources[i] = name.split(":", 1)[1]
    return sources


def _numeric_source(feature: str, cols: list[str]) -> str:
    feature = feature.removeprefix("missingindicator_")
    if feature in cols:
        return feature
    parts = {p.split("^")[0] for p in feature.split(" ")}
    matched = [c for c in cols if c in parts]
    return matched[0] if len(matched) == 1 else "(interactions)"


def sources_of(pipeline: Any) -> list[str] | None:
    """The user column behind each model feature; None when the preprocessing cannot say (a text-only model)."""
    from mlcli.features.provenance import model_input_sources

    try:
        return model_input_sources(pipeline)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def preprocessor_of(pipeline: Any) -> Any:
    return pipeline.named_steps["preprocess"]


def _column_transformer(pre: Any) -> Any:
    return pre.named_steps["columns"] if hasattr(pre, "named_steps") and "columns" in pre.named_steps else pre


def has_pca(pre: Any) -> bool:
    return hasattr(pre, "named_steps") and "pca" in pre.named_steps


def feature_labels(pipeline: Any) -> list[str]:
    """A readable name per model feature: 'Age', 'Age (missing)', 'Sex=female', "Name: 'mrs'", 'date.month'."""
    sources = sources_of(pipeline) or []
    pre = preprocessor_of(pipeline)
    if has_pca(pre) or "encode" in pipeline.named_steps:
        return sources
    try:
        raw = [str(n) for n in _column_transformer(pre).get_feature_names_out()]
    except Exception:  # a step without feature names: fall back to the user column
        return sources
    labels = []
    for name, src in zip(raw, sources):
        branch, _, feat = name.partition("__")
        if branch == "num":
            labels.append(f"{feat.removeprefix('missingindicator_')} (missing)" if feat.startswith(
                "missingindicator_") else feat)
        elif branch.startswith("cat:"):
            value = feat.removeprefix(f"{src}_") if feat != src else None
            labels.append(f"{src}={value}" if value is not None else src)
        elif branch.startswith("text:"):
            labels.append(f"{src}: '{feat}'")
        elif branch.startswith("date:"):
            labels.append(f"{src}.{feat}")
        else:
            labels.append(feat or src)
    return labels


def standardised_features(pipeline: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per model feature: (comes out of a StandardScaler, comes from a numeric or date column)."""
    from sklearn.preprocessing import StandardScaler

    pre = preprocessor_of(pipeline)
    if has_pca(pre):
        k = pre.named_steps["pca"].pca_.n_components_
        return np.zeros(k, dtype=bool), np.zeros(k, dtype=bool)
    ct = _column_transformer(pre)
    n_out = sum(s.stop - s.start for s in ct.output_indices_.values())
    scaled, numeric = np.zeros(n_out, dtype=bool), np.zeros(n_out, dtype=bool)
    for name, trans, _ in ct.transformers_:
        if name not in ct.output_indices_:
            continue
        idx = ct.output_indices_[name]
        last = trans.steps[-1][1] if hasattr(trans, "steps") else trans
        scaled[idx.start:idx.stop] = isinstance(last, StandardScaler)
        numeric[idx.start:idx.stop] = name == "num" or name.startswith("date:")
    return scaled, numeric
