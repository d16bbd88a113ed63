"""mlcli's own preprocessing transformers: dates, text, median imputation, PCA."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from mlcli.errors import DataError


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


def input_names(est: BaseEstimator, input_features=None) -> list[str]:
    """The names of a fitted transformer's input columns: given, seen in fit, or x0, x1, ..."""
    if input_features is not None:
        return [str(n) for n in input_features]
    return [str(n) for n in getattr(est, "feature_names_in_", [f"x{i}" for i in range(est.n_features_in_)])]


class ObjectCaster(TransformerMixin, BaseEstimator):
    """Casts a column to Python objects so imputation and one-hot see plain strings."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X):
        return _to_object(X)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_names(self, input_features), dtype=object)


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
        names = input_names(self, input_features)
        return np.asarray([n for n, k in zip(names, self.keep_) if k]
                          + [f"missingindicator_{n}" for n, f in zip(names, self.indicate_) if f], dtype=object)


class PCAStep(TransformerMixin, BaseEstimator):
    """PCA to K components (--pca K). As scikit-learn's PCA, K above min(rows, features) of the training data is
    refused, not capped: a model silently built on fewer components than asked (and recorded with K) misleads,
    and the cap would differ between cv's folds and the final fit. The error names the largest K that fits."""

    def __init__(self, n_components: int = 2):
        self.n_components = n_components

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA

        rows, features = X.shape
        if self.n_components > min(rows, features):
            raise DataError(f"--pca {self.n_components}: PCA finds at most {min(rows, features)} components here "
                            f"({rows} training rows, {features} features after encoding); give --pca "
                            f"{min(rows, features)} or less")
        self.pca_ = PCA(n_components=self.n_components, random_state=0).fit(np.asarray(X, dtype=float))
        return self

    def transform(self, X):
        return self.pca_.transform(np.asarray(X, dtype=float))

    def get_feature_names_out(self, input_features=None):
        return np.array([f"pca{i}" for i in range(self.pca_.n_components_)], dtype=object)
