"""One-hot encoding of a categorical column, vectorised over pandas category codes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlcli.data.schema import as_strings
from mlcli.features.transformers import input_names

MISSING = "__missing__"


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
        name = input_names(self, input_features)[0]
        names = [f"{name}_{lv}" for lv in self.frequent_]
        if self.infrequent_:
            names.append(f"{name}_infrequent_sklearn")
        return np.asarray(names, dtype=object)
