"""The role of every column (numeric, categorical, text, datetime, identifier, constant) and the schema."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from mlcli.data.schema import ColumnInfo, Schema
from mlcli.errors import DataError, did_you_mean


def is_integral(s: pd.Series) -> bool:
    v = s.dropna()
    return pd.api.types.is_integer_dtype(v) or (pd.api.types.is_float_dtype(v) and bool(np.all(np.mod(v, 1) == 0)))


_ID_NAMES = ("id", "index", "key", "uuid", "rownames", "row", "passengerid", "customerid", "record")


def _looks_like_id_name(name: str) -> bool:
    n = name.lower().replace("_", "").replace(" ", "").replace("-", "")
    return n in _ID_NAMES or n.endswith("id") or n.startswith("id")


def _datetime_like(s: pd.Series) -> bool:
    sample = s.dropna().astype(str).head(200)
    if len(sample) == 0 or sample.str.len().median() < 6 or not sample.str.contains(r"\d[-/:.]\d", regex=True).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return parsed.notna().mean() > 0.95


def infer_role(s: pd.Series, n_unique: int | None = None) -> tuple[str, str]:
    n = len(s)
    nonnull = s.dropna()
    if n_unique is None:
        n_unique = nonnull.nunique()
    if n_unique <= 1:
        return "constant", "a single value" if n_unique else "all missing"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime", "datetime values"
    if pd.api.types.is_bool_dtype(s):
        return "categorical", "true/false"
    if pd.api.types.is_numeric_dtype(s):
        if is_integral(nonnull) and n_unique == len(nonnull) == n and n >= 20:
            ordered = np.sort(nonnull.to_numpy())
            consecutive = bool(np.all(np.diff(ordered) == 1))
            if _looks_like_id_name(str(s.name)) or consecutive:
                return "identifier", "a distinct integer per row"
        return "numeric", ""
    text = nonnull.astype(str)
    if len(text) > 5000:  # the shape of the values is judged on a sample; counts use every row
        text = text.sample(5000, random_state=0)
    if _datetime_like(text):
        return "datetime", "parses as dates"
    words = text.str.count(r"\s+") + 1
    unique_ratio = n_unique / max(len(nonnull), 1)
    if words.mean() >= 3 and unique_ratio > 0.3:
        return "text", f"free text ({words.mean():.1f} words on average)"
    if n_unique == len(nonnull) and n >= 20 and (unique_ratio == 1.0):
        return "identifier", "a distinct value per row"
    if unique_ratio > 0.9 and n >= 50 and _looks_like_id_name(str(s.name)):
        return "identifier", "a distinct value per row"
    return "categorical", ""


def _split_names(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def infer_schema(df: pd.DataFrame, target: str, task: str, *, drop: list[str] | None = None,
                 categorical: list[str] | None = None, text: list[str] | None = None,
                 numeric: list[str] | None = None, profiles: dict[str, tuple[str, str, int]] | None = None
                 ) -> Schema:
    """Every column's role: inferred (or taken from ``profiles``, already inferred), or as the user set it."""
    overrides: dict[str, str] = {}
    for role, names in (("dropped", drop), ("categorical", categorical), ("text", text), ("numeric", numeric)):
        for name in _split_names(names):
            if name not in df.columns:
                raise DataError(f"column '{name}' (given with --{role.replace('dropped', 'drop')}) not found"
                                f"{did_you_mean(name, df.columns)}")
            if name == target:
                raise DataError(f"column '{name}' is the target; it cannot also be given a feature role")
            overrides[name] = role
    columns = []
    for col in df.columns:
        if col == target:
            continue
        s = df[col]
        known = (profiles or {}).get(col)
        n_unique = known[2] if known else int(s.nunique())
        if col in overrides:
            role, reason = overrides[col], "set by you"
            if role == "numeric" and not pd.api.types.is_numeric_dtype(s):
                bad = pd.to_numeric(s.dropna(), errors="coerce").isna()
                if bad.any():
                    raise DataError(f"--numeric column '{col}' has non-numeric values like "
                                    f"'{s.dropna()[bad].iloc[0]}'")
        else:
            role, reason = known[:2] if known else infer_role(s, n_unique)
        columns.append(ColumnInfo(col, str(s.dtype), role, reason, n_unique, round(float(s.isna().mean()), 4)))
    schema = Schema(target, task, columns)
    if not schema.used:
        raise DataError("no usable feature columns: every column was dropped (identifier, constant or --drop)")
    return schema
