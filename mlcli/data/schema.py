"""The schema a model is trained on (every column, its dtype and role), the feature frame built from it,
and the check of new data against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.notices import warn
from mlcli.errors import DataError, SchemaError, did_you_mean, quote_list


@dataclass
class ColumnInfo:
    name: str
    dtype: str
    role: str
    reason: str = ""
    n_unique: int = 0
    missing: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Schema:
    """What a model was trained on: every input column, its dtype and role."""

    target: str
    task: str
    columns: list[ColumnInfo] = field(default_factory=list)

    def by_role(self, role: str) -> list[str]:
        return [c.name for c in self.columns if c.role == role]

    @property
    def used(self) -> list[ColumnInfo]:
        return [c for c in self.columns if c.role in ("numeric", "categorical", "text", "datetime")]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "task": self.task, "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Schema:
        return cls(d["target"], d["task"], [ColumnInfo(**c) for c in d["columns"]])


def as_strings(s: pd.Series) -> pd.Series:
    """The values as text, missing values left missing: categorical levels renamed, other values str()'d."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = s.cat.categories
        return s if all(isinstance(c, str) for c in levels) else s.cat.rename_categories([str(c) for c in levels])
    if isinstance(s.dtype, pd.StringDtype) or pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        return s
    return s.map(lambda v: v if pd.isna(v) or isinstance(v, str) else str(v))


def prepare_frame(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The feature frame a pipeline is fitted on: used columns only, with dtypes fixed by role."""
    out = {}
    for info in schema.used:
        s = df[info.name]
        if info.role == "numeric":
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                s = pd.to_numeric(s, errors="coerce")
            s = s.astype("float64")  # no copy when it already is (copy-on-write)
        elif info.role in ("categorical", "text"):
            s = as_strings(s)
            if info.role == "categorical":  # codes and one copy of each level: small, and fast to encode
                s = s.astype("category")
            else:
                s = s.astype("object").where(s.notna(), np.nan)  # NaN: what SimpleImputer treats as missing
        out[info.name] = s
    return pd.DataFrame(out, index=df.index, copy=False)  # shares the loaded columns, no consolidated copy


def check_finite(frame: pd.DataFrame, columns: list[str], label: str = "the data",
                 rows: np.ndarray | None = None) -> None:
    """Refuse an infinite value (inf, -inf, 1e999) in a numeric column before anything is fitted or predicted:
    models reject it deep inside, or silently turn it into the largest float. ``rows`` maps positions in
    ``frame`` to data rows of the file when rows were dropped (a missing target)."""
    for name in columns:
        s = frame[name]
        if pd.api.types.is_bool_dtype(s):
            continue
        if not pd.api.types.is_numeric_dtype(s):
            s = pd.to_numeric(s, errors="coerce")
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isinf(values)
        if bad.any():
            i = int(np.argmax(bad))
            row = int(rows[i]) + 1 if rows is not None else i + 1
            where = "" if label == "the data" else f" of {label}"
            raise DataError(f"column '{name}'{where} holds an infinite value (row {row}: {values[i]:g}); replace it "
                            "with a finite number, or leave the cell empty to mark it missing")


def check_against_schema(df: pd.DataFrame, schema: Schema, label: str = "the data",
                         rows: np.ndarray | None = None, notify: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Check new data against a trained model's schema; return the feature frame or name what is wrong.

    A column the model takes as numeric that holds text: with ``notify`` (predict, evaluate, explain), a few such
    values (at most half of the column's) are read as missing, with a warning naming the column, the count and
    an example (a level that only turns up in new rows: 'rotary' among the cylinder counts); a column of mostly
    text is refused (probably the wrong file or column). Without ``notify`` any such value is refused."""
    missing = [c.name for c in schema.used if c.name not in df.columns]
    if missing:
        close = "".join(did_you_mean(m, df.columns) for m in missing[:1])
        raise SchemaError(f"{label} is missing {len(missing)} column(s) the model was trained on: "
                          f"{quote_list(missing)}{close}")
    mistyped, unread = [], []
    for info in schema.used:
        if info.role != "numeric":
            continue
        s = df[info.name]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        values = s.dropna()
        bad = pd.to_numeric(values, errors="coerce").isna()
        count = int(bad.sum())
        if not count:
            continue
        example = values[bad].iloc[0]
        if notify is None or 2 * count > len(values):
            share = f" ({count:,} of its {len(values):,} values are not numbers)" if count > 1 else ""
            mistyped.append(f"'{info.name}' should be numeric but holds values like '{example}'{share}")
        else:
            unread.append((info.name, count, len(values), example))
    if mistyped:
        raise SchemaError(f"{label} has column(s) of the wrong type: " + "; ".join(mistyped))
    if unread:
        for name, count, total, example in unread:
            verb = "is not a number" if count == 1 else "are not numbers"
            warn(notify, f"{label}: column '{name}' is numeric for the model but {count:,} of its {total:,} values "
                         f"{verb} (like '{example}'); read as missing")
    X = prepare_frame(df, schema)
    check_finite(X, schema.by_role("numeric"), label, rows)
    return X
