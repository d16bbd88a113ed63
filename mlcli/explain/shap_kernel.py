"""Model-agnostic SHAP: shap's KernelExplainer over the raw user columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.schema import Schema
from mlcli.explain.shap_common import import_shap
from mlcli.features.provenance import has_pca, model_input, preprocessor_of, sources_of
from mlcli.models.steps import final_model


def _blocks(pipeline: Any, schema: Schema) -> list[np.ndarray] | None:
    """Per user column (in ``schema.used`` order), the model features computed from that column alone.

    None when some feature mixes columns (--poly interactions, --pca components).
    """
    found = sources_of(pipeline)
    if found is None or has_pca(preprocessor_of(pipeline)):
        return None
    sources = np.asarray(found, dtype=object)
    used = [c.name for c in schema.used]
    if not set(sources) <= set(used):
        return None
    return [np.flatnonzero(sources == c) for c in used]


class _Assembler:
    """Masked rows in the model's feature space without preprocessing them again.

    Every row the explainer asks for takes each user column's value from some row of a pool (the explained
    rows plus the background rows). Preprocessing acts column by column, so the model features of such a
    row are the pooled rows' precomputed feature blocks, put side by side.
    """

    def __init__(self, pipeline: Any, pool: pd.DataFrame, blocks: list[np.ndarray]):
        from scipy import sparse

        T = model_input(pipeline, pool)
        self.sparse = sparse.issparse(T)
        T = T.tocsc() if self.sparse else np.asarray(T)
        self.blocks = [(T[:, idx].tocsr() if self.sparse else T[:, idx]) for idx in blocks]
        self.inverse = np.argsort(np.concatenate(blocks), kind="stable")

    def __call__(self, codes: np.ndarray) -> Any:
        from scipy import sparse

        rows = codes.astype(int)
        parts = [blk[rows[:, j]] for j, blk in enumerate(self.blocks)]
        if self.sparse:
            return sparse.hstack(parts, format="csr")[:, self.inverse]
        return np.hstack(parts)[:, self.inverse]


def _output_fn(obj: Any, task: str, model: Any) -> tuple[Callable[[Any], np.ndarray], str]:
    """The output a model-agnostic explainer explains, as a function of ``obj``'s input (the pipeline's raw
    rows or the model's features): log-odds for logistic models, else the probability (classifiers) or the
    prediction (regression); shape (n, k)."""
    if task == "regression":
        return (lambda X: np.asarray(obj.predict(X), dtype=float).reshape(X.shape[0], 1)), "prediction"
    if type(model).__name__ == "LogisticRegression":
        return (lambda X: np.asarray(obj.decision_function(X), dtype=float).reshape(X.shape[0], -1)), \
            ("log-odds" if task == "binary" else "raw score")

    def proba(X):
        pr = np.asarray(obj.predict_proba(X), dtype=float)
        return pr[:, 1:] if task == "binary" else pr
    return proba, "probability"


def kernel_contributions(pipeline: Any, schema: Schema, X: pd.DataFrame, background: pd.DataFrame, task: str, seed: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    """Shapley values over the raw user columns with shap's KernelExplainer on a background sample.

    The explainer masks 'which pooled row each column's value comes from', so any column type can be masked.
    """
    shap = import_shap("SHAP for this model (a model-agnostic explainer)")
    model = final_model(pipeline)
    pool = pd.concat([X, background], ignore_index=True)
    n, m = len(X), X.shape[1]
    blocks = _blocks(pipeline, schema)
    if blocks is not None:
        assemble = _Assembler(pipeline, pool, blocks)
        model_fn, kind = _output_fn(model, task, model)

        def f(codes: np.ndarray) -> np.ndarray:
            return model_fn(assemble(np.asarray(codes)))
    else:
        raw_fn, kind = _output_fn(pipeline, task, model)
        pooled = {c: pool[c].to_numpy() for c in X.columns}

        def f(codes: np.ndarray) -> np.ndarray:
            rows = np.asarray(codes).astype(int)
            return raw_fn(pd.DataFrame({c: pooled[c][rows[:, j]] for j, c in enumerate(X.columns)}))
    bg = np.repeat(np.arange(n, len(pool), dtype=float)[:, None], m, axis=1)
    codes = np.repeat(np.arange(n, dtype=float)[:, None], m, axis=1)
    # Kernel SHAP enumerates every coalition while 2^m - 2 <= nsamples (exact Shapley values, and no
    # numba compilation to wait for); beyond that it samples coalitions
    nsamples = 2 ** m if m <= 11 else 2 * m + 2048
    explainer = shap.KernelExplainer(f, bg, keep_index=False)
    raw = explainer.shap_values(codes, nsamples=nsamples, l1_reg=False, silent=True)
    values = np.asarray(raw, dtype=float)
    if isinstance(raw, list):  # older shap: one (n, m) array per output
        values = np.transpose(values, (1, 2, 0))
    values = values[:, None, :] if values.ndim == 2 else np.transpose(values, (0, 2, 1))
    base = np.broadcast_to(np.atleast_1d(np.asarray(explainer.expected_value, dtype=float)),
                           (n, values.shape[1])).copy()
    name = "every coalition" if m <= 11 else f"{nsamples} sampled coalitions"
    output, _ = _output_fn(pipeline, task, model)
    return values, base, output(X), kind, (f"shap KernelExplainer over the raw columns ({name}, "
                                          f"{len(bg)} background rows)")
