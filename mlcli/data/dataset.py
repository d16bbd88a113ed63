"""A data file loaded for learning: options, the loaded dataset, and the one place the target is encoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.notices import Notify, quiet, warn
from mlcli.data.read import fingerprint, read_table
from mlcli.data.records import ATTR
from mlcli.data.roles import infer_schema
from mlcli.data.schema import Schema, check_finite, prepare_frame
from mlcli.data.target import choose_target, infer_task, profile_columns
from mlcli.errors import DataError

SYNTHETIC = "mlcli_synthetic"  # the column mlcli balance writes: 1 for a row it made (synthetic or a copy)


def tell(df: pd.DataFrame, notify: Notify) -> list[str]:
    """Tell the warnings read_table left on the frame (data.records) through ``notify``; returns them."""
    lines = list(df.attrs.get(ATTR, []))
    for line in lines:
        warn(notify, line)
    return lines


@dataclass
class DataOptions:
    """How to read a data file and what its columns are."""

    path: str
    target: str | None = None
    task: str | None = None
    sep: str | None = None
    encoding: str | None = None
    drop: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    """A loaded data file with its target, task and roles decided."""

    frame: pd.DataFrame | None  # the raw frame (rows with a missing target removed); train frees it after the split
    X: pd.DataFrame | None
    y: pd.Series
    schema: Schema
    target_reason: str
    dropped_rows: int
    source: str
    warnings: list[str] = field(default_factory=list)  # what reading the file found (data.records)
    synthetic: np.ndarray | None = None  # rows written by mlcli balance (its SYNTHETIC column), if any

    @property
    def task(self) -> str:
        return self.schema.task


def load_dataset(opts: DataOptions, notify: Notify = quiet, stdin: Any = None) -> Dataset:
    df = read_table(opts.path, sep=opts.sep, encoding=opts.encoding, stdin=stdin)
    read_warnings = tell(df, notify)
    made = None
    if SYNTHETIC in df.columns:
        made = pd.to_numeric(df.pop(SYNTHETIC), errors="coerce").fillna(0).to_numpy() > 0
        read_warnings.append(synthetic_warning(int(made.sum()), len(made)))
        warn(notify, read_warnings[-1])
    profiles = profile_columns(df)
    target, reason = choose_target(df, opts.target, profiles)
    if reason != "given":
        notify(f"target: {reason}")
    present = df[target].notna().to_numpy()  # to name an infinite value's row in the file
    if made is not None:
        made = made[df[target].notna().to_numpy()]
    df, n_missing = drop_missing_target(df, target)
    if n_missing:
        notify(f"dropped {n_missing} row(s) with a missing target '{target}'")
    rows = np.flatnonzero(present) if n_missing else None
    task = infer_task(df[target], opts.task)
    if task == "regression":
        check_finite(df, [target], rows=rows)
    schema = infer_schema(df, target, task, drop=opts.drop, categorical=opts.categorical, text=opts.text,
                          numeric=opts.numeric, profiles=profiles)
    for info in schema.columns:
        if info.role in ("identifier", "constant"):
            notify(f"dropped column '{info.name}': {info.role} ({info.reason}); keep it with --categorical/--numeric")
    notify("columns: " + "; ".join(f"{role} {', '.join(schema.by_role(role))}"
                                   for role in ("numeric", "categorical", "text", "datetime") if schema.by_role(role)))
    X = prepare_frame(df, schema)
    check_finite(X, schema.by_role("numeric"), rows=rows)
    return Dataset(df, X, df[target], schema, reason, n_missing, opts.path if opts.path != "-" else "<stdin>",
                   read_warnings, made)


def synthetic_warning(count: int, total: int) -> str:
    return (f"{count} of the {total} rows ({count / max(total, 1):.1%}) were made by mlcli balance (synthetic "
            f"neighbours or copies; column {SYNTHETIC}): a model trained and tested on such rows gets optimistic "
            "metrics, since a made row and the rows it was made from land on both sides of a split; train on the "
            "original file with --balance METHOD, which resamples the training rows only")


def drop_missing_target(df: pd.DataFrame, target: str) -> tuple[pd.DataFrame, int]:
    missing = int(df[target].isna().sum())
    if missing == len(df):
        raise DataError(f"target column '{target}' is empty: every value is missing")
    return (df[df[target].notna()].reset_index(drop=True) if missing else df), missing


def class_labels(y: pd.Series) -> list[Any]:
    """Sorted distinct labels as JSON-friendly Python values; the second of two is the positive class."""
    values = y.dropna().unique()
    out = []
    for v in values:
        v = v.item() if isinstance(v, np.generic) else v
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        out.append(v)
    try:
        return sorted(out)
    except TypeError:
        return sorted(out, key=str)


def encode_target(y: pd.Series, task: str, classes: list[Any]) -> np.ndarray:
    """The target as a model sees it: class indices 0..k-1 for classification (labels compared as text, so 1,
    1.0 and '1' agree; a label not in ``classes`` is an error), floats for regression (text is an error).

    The one place a target is encoded: train, evaluate, explain and cv all come here.
    """
    if task == "regression":
        values = pd.to_numeric(y, errors="coerce")
        bad = values.isna() & y.notna()
        if bad.any():
            raise DataError(f"target '{y.name}' has non-numeric values like '{y[bad].iloc[0]}'")
        out = values.to_numpy(dtype=float)
        if np.isinf(out).any():
            check_finite(pd.DataFrame({y.name: out}), [y.name])
        return out
    return _class_indices(y, classes)


def _class_indices(y: pd.Series, classes: list[Any]) -> np.ndarray:
    lookup = {str(c): i for i, c in enumerate(classes)}
    if pd.api.types.is_bool_dtype(y) or pd.api.types.is_integer_dtype(y):
        keys = y.astype(str)
    elif pd.api.types.is_float_dtype(y) and bool(np.all(np.mod(y.dropna(), 1) == 0)):
        keys = y.astype("Int64").astype(str)  # 1.0 and 1 are the same label
    else:
        keys = y.map(_label_key)
    codes = keys.map(lookup)
    unknown = y[codes.isna()]
    if len(unknown):
        raise DataError(f"target '{y.name}' has label(s) the model never saw: "
                        f"{', '.join(map(str, unknown.unique()[:5]))}; known classes: "
                        f"{', '.join(map(str, classes))}")
    return codes.astype(int).to_numpy()


def _label_key(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
    return str(v)


def encode_classes(ds: Dataset) -> tuple[np.ndarray, list[Any]]:
    """(encoded target, class labels) of a loaded dataset; no labels for regression."""
    classes = [] if ds.task == "regression" else class_labels(ds.y)
    return encode_target(ds.y, ds.task, classes), classes


SHOWN = 10  # classes named in an error line at most


def single_row_classes(ds: Dataset, y: np.ndarray, classes: list[Any]) -> tuple[np.ndarray, str] | None:
    """Multiclass with classes of a single row and at least three classes of more (a binary file with a stray
    label is refused by check_class_sizes): (the indices of those classes, their names for a message, at
    most ten); None otherwise."""
    if ds.task != "multiclass":
        return None
    counts = np.bincount(y, minlength=len(classes))
    single = np.flatnonzero(counts == 1)
    if not len(single) or int((counts >= 2).sum()) < 3:
        return None
    names = ", ".join(f"'{classes[i]}'" for i in single[:SHOWN])
    return single, names + (f" and {len(single) - SHOWN} more" if len(single) > SHOWN else "")


def check_class_sizes(y_idx: np.ndarray, classes: list[Any], need: int, what: str) -> None:
    counts = np.bincount(y_idx, minlength=len(classes))
    small = [(classes[i], int(c)) for i, c in enumerate(counts) if 0 < c < need]  # absent: left out on purpose
    if small:
        listing = ", ".join(f"'{c}' has {n}" for c, n in small[:SHOWN])
        more = f" and {len(small) - SHOWN:,} more classes" if len(small) > SHOWN else ""
        hint = " (if the target is a number, say so with --task regression)" if len(small) > SHOWN else ""
        raise DataError(f"class too small for {what}: {listing} row(s){more}, at least {need} needed; "
                        f"remove or merge rare classes{hint}")


def data_summary(ds: Dataset) -> dict[str, Any]:
    """What a bundle records of the data it was trained from."""
    return {"fingerprint": fingerprint(ds.frame), "rows": len(ds.frame)}


def row_hashes(X: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """A 64-bit hash per row of the feature frame and its encoded target: equal rows, equal hashes, whichever
    file they were read from (numbers as float64, categories and text by value)."""
    from pandas.util import hash_array, hash_pandas_object

    features = hash_pandas_object(X, index=False).to_numpy(dtype=np.uint64) if X.shape[1] else \
        np.zeros(len(X), dtype=np.uint64)
    target = hash_array(np.asarray(y, dtype=np.float64))
    with np.errstate(over="ignore"):
        return features * np.uint64(0x9E3779B97F4A7C15) ^ target


def rows_seen(hashes: np.ndarray, known: np.ndarray) -> int:
    """How many of ``hashes`` are in ``known`` (the sorted hashes of a model's training rows)."""
    if len(known) == 0 or len(hashes) == 0:
        return 0
    pos = np.clip(np.searchsorted(known, hashes), 0, len(known) - 1)
    return int(np.sum(known[pos] == hashes))
