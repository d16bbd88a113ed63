"""How text columns reach a text model: checked, then joined with their names when there are several."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlcli.errors import DataError

SEPARATOR = " | "
_NUMERIC_DTYPES = ("int", "uint", "float", "Int", "UInt", "Float", "bool", "boolean")


def _clean(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def join_texts(frame: pd.DataFrame | pd.Series | np.ndarray | list) -> list[str]:
    """One string per row. Several columns become 'name: value | name: value' (blank values left out)."""
    if isinstance(frame, pd.Series):
        return [_clean(v) for v in frame.tolist()]
    if not isinstance(frame, pd.DataFrame):
        arr = np.asarray(frame, dtype=object)
        if arr.ndim == 1:
            return [_clean(v) for v in arr.tolist()]
        frame = pd.DataFrame(arr, columns=[f"text{i}" for i in range(arr.shape[1])])
    if frame.shape[1] == 1:
        return [_clean(v) for v in frame.iloc[:, 0].tolist()]
    names = [str(c) for c in frame.columns]
    rows = []
    for values in frame.itertuples(index=False, name=None):
        parts = [f"{n}: {t}" for n, t in zip(names, map(_clean, values)) if t]
        rows.append(SEPARATOR.join(parts))
    return rows


def check_not_numeric(name: str, dtype: str, sample: Any = None) -> None:
    if str(dtype).startswith(_NUMERIC_DTYPES):
        like = f" (values like {sample})" if sample is not None else ""
        raise DataError(f"text column '{name}' holds numbers{like}, not free text; treat it with --numeric or "
                        "--categorical, and give a column of words with --text")


def check_text_info(info: Any) -> None:
    """A schema column with the text role: numbers are refused; an all-missing column is left to the
    emptiness check (it reads as float NaN)."""
    if getattr(info, "missing", 0.0) < 1.0:
        check_not_numeric(info.name, info.dtype)


def check_not_empty(texts: list[str], columns: list[str]) -> None:
    if not any(texts):
        what = f"text column '{columns[0]}' is" if len(columns) == 1 else \
            f"text columns {', '.join(repr(c) for c in columns)} are"
        raise DataError(f"{what} empty: every value is missing or blank")


def text_columns(schema: Any, model_name: str) -> list[str]:
    """The schema's text columns, checked; a one-line error naming the columns seen when there is none."""
    cols = schema.by_role("text")
    if not cols:
        seen = ", ".join(f"{c.name} ({c.role}{': ' + c.reason if c.reason and c.role != 'numeric' else ''})"
                         for c in schema.columns)
        raise DataError(f"model '{model_name}' reads free text, but no column is text; columns seen: {seen}; "
                        "name the text column with --text COLUMN")
    for info in schema.columns:
        if info.role == "text":
            check_text_info(info)
    return cols


class TextJoiner(TransformerMixin, BaseEstimator):
    """Selects the text columns and joins them into one string per row (the transformer model's input)."""

    def __init__(self, columns: list[str] | None = None):
        self.columns = columns

    def _frame(self, X) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            cols = self.columns or list(X.columns)
            missing = [c for c in cols if c not in X.columns]
            if missing:
                raise DataError(f"text column(s) missing from the data: {', '.join(missing)}")
            return X[cols]
        return pd.DataFrame(np.asarray(X, dtype=object).reshape(len(X), -1))

    def fit(self, X, y=None):
        frame = self._frame(X)
        self.columns_ = [str(c) for c in frame.columns]
        check_not_empty(join_texts(frame), self.columns_)
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        return np.asarray(join_texts(self._frame(X)), dtype=object)

    def get_feature_names_out(self, input_features=None):
        return np.array(["text"], dtype=object)


def text_pipeline_input(schema: Any, model_name: str, estimator: Any) -> TextJoiner:
    """The preprocess step of a text-only model; also checks the model's set-up (base model, max length)."""
    cols = text_columns(schema, model_name)
    check = getattr(estimator, "check_setup", None)
    if check is not None:
        check()
    return TextJoiner(cols)
