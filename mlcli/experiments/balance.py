"""mlcli balance: class counts, imbalance ratio and advice; with a method, the resampled rows.

Resampling for *training* is a pipeline step (``mlcli.models.build``); this command writes resampled rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import SYNTHETIC
from mlcli.errors import ConfigError, DataError, first_line
from mlcli.models.resamplers import ResamplerSpec
from mlcli.models.steps import check_neighbours


def class_counts(y: pd.Series) -> list[dict[str, Any]]:
    counts = y.value_counts()
    total = int(counts.sum())
    return [{"class": _plain(c), "count": int(n), "share": round(int(n) / total, 6)} for c, n in counts.items()]


def imbalance_ratio(y: pd.Series) -> float:
    counts = y.value_counts()
    return float(counts.max() / counts.min())


def advice(counts: list[dict[str, Any]], ratio: float, n_categorical: int, n_numeric: int) -> list[str]:
    minority = min(counts, key=lambda c: c["count"])
    tips = []
    if ratio < 1.5:
        return ["The classes are balanced: no resampling needed."]
    tips.append(f"Judge models by PR AUC, balanced accuracy and minority-class ('{minority['class']}') recall, "
                "not accuracy: always predicting the majority scores "
                f"{max(c['share'] for c in counts):.1%} accuracy.")
    tips.append("Compare strategies on the same folds: mlcli cv DATA --models logreg,rf,xgboost "
                "--balance none,smote,class-weight")
    if minority["count"] < 6:
        tips.append(f"The minority class has only {minority['count']} rows: SMOTE needs k_neighbors < that; "
                    "prefer --balance oversample or class weights.")
    elif n_categorical and n_numeric:
        tips.append("With categorical columns, smote uses SMOTE-NC automatically.")
    if ratio >= 20:
        tips.append("With this much imbalance, try --class-weight balanced and --threshold auto in train.")
    return tips


@dataclass
class BalanceResult:
    target: str
    method: str | None
    before: list[dict[str, Any]]
    after: list[dict[str, Any]] | None
    ratio_before: float
    ratio_after: float | None
    advice: list[str] = field(default_factory=list)
    rows: pd.DataFrame | None = None
    note: str | None = None

    @property
    def warning(self) -> str | None:
        """What to say whenever resampled rows are written: metrics measured on them mislead."""
        if self.rows is None or self.after == self.before:
            return None
        return ("a model trained and tested on these rows gets optimistic metrics (copies or synthetic neighbours "
                "of a row land on both sides of a split); to measure honestly, train on the original file with "
                f"--balance {self.method}, which resamples the training rows only")

    def to_dict(self) -> dict[str, Any]:
        return {"command": "balance", "target": self.target, "method": self.method,
                "before": self.before, "imbalance_ratio_before": round(self.ratio_before, 4),
                "after": self.after,
                "imbalance_ratio_after": None if self.ratio_after is None else round(self.ratio_after, 4),
                "advice": self.advice, "note": self.note, "warning": self.warning}


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def resample_frame(df: pd.DataFrame, target: str, schema, spec: ResamplerSpec, params: dict[str, Any],
                   ratio: Any, seed: int) -> tuple[pd.DataFrame, str]:
    """Resample a raw frame and return rows in the input's own columns, order and types.

    Original rows are returned unchanged (over-sampling keeps them and appends synthetic rows; under-sampling
    keeps a subset). Synthetic rows get numeric values interpolated between real rows (SVM-SMOTE can step a
    little beyond the observed range; integers stay integers) and categorical values that exist in the input;
    identifier and dropped columns are empty for them.
    """
    from mlcli.models.resamplers import make_resampler, resolve_for_columns

    num = schema.by_role("numeric")
    cat = schema.by_role("categorical")
    text = schema.by_role("text") + schema.by_role("datetime")
    spec = resolve_for_columns(spec, len(cat), len(num))
    if spec.synthesises and text:
        raise DataError(f"balance method '{spec.name}' cannot synthesise free-text or date column(s) "
                        f"{', '.join(text)}; leave them out with --drop or use --method oversample")
    if spec.synthesises and cat and spec.categorical is None:
        raise DataError(f"balance method '{spec.name}' interpolates numbers and cannot handle categorical column(s) "
                        f"{', '.join(cat)}; use --method smote (SMOTE-NC), oversample or undersample")
    features = num + cat + (text if not spec.synthesises else [])
    enc: dict[str, list[Any]] = {}
    X = pd.DataFrame(index=df.index)
    for col in num:
        s = pd.to_numeric(df[col], errors="coerce")
        X[col] = s.fillna(s.median())
    for col in cat + (text if not spec.synthesises else []):
        s = df[col].astype("object").where(df[col].notna(), "__missing__").astype(str)
        levels = sorted(s.unique())
        enc[col] = levels
        X[col] = s.map({v: i for i, v in enumerate(levels)}).astype(int)
    if spec.categorical == "all" and num:
        raise DataError(f"balance method '{spec.name}' is for all-categorical data, but {', '.join(num)} "
                        "are numeric; use --method smote (SMOTE-NC)")
    cat_idx = [features.index(c) for c in cat]
    sampler = make_resampler(spec, params, seed=seed, ratio=ratio, categorical_features=cat_idx)
    y = df[target].to_numpy()
    check_neighbours(y, sampler, spec.name, spec.neighbours)
    try:
        Xr, yr = sampler.fit_resample(X[features].to_numpy(), y)
    except ValueError as exc:
        raise DataError(f"balance method '{spec.name}' failed: {first_line(exc)}") from exc
    kept = getattr(sampler, "sample_indices_", None)
    if kept is not None and spec.kind == "under":
        return df.iloc[np.sort(kept)].reset_index(drop=True), spec.name  # real rows only: nothing to mark
    n = len(df)
    if spec.kind == "over" and len(Xr) >= n:  # imbalanced-learn keeps the original rows first
        synthetic = _decode(Xr[n:], yr[n:], features, enc, df, target, num)
        out = pd.concat([df, synthetic], ignore_index=True)[list(df.columns)]
        return _mark(out, np.arange(len(out)) >= n, schema), spec.name
    out = _decode(Xr, yr, features, enc, df, target, num)
    known = set(map(tuple, X[features].to_numpy().tolist()))
    return _mark(out, np.array([tuple(r) not in known for r in Xr.tolist()]), schema), spec.name


def _mark(rows: pd.DataFrame, made: np.ndarray, schema) -> pd.DataFrame:
    """The rows balance made (synthetic neighbours, copies) marked in a column of their own (SYNTHETIC, read
    by train and cv, which say so), and given identifiers of their own so an identifier column stays one."""
    for col in schema.by_role("identifier"):
        ids = rows[col].astype(object)
        ids[made] = [f"synthetic-{i + 1}" for i in range(int(made.sum()))]
        rows[col] = ids
    rows[SYNTHETIC] = made.astype(int)
    return rows


def _decode(Xr: np.ndarray, yr: np.ndarray, features: list[str], enc: dict[str, list[Any]], df: pd.DataFrame,
            target: str, num: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(index=range(len(Xr)), columns=df.columns, dtype=object)
    for i, col in enumerate(features):
        values = Xr[:, i]
        if col in enc:
            levels = np.asarray(enc[col], dtype=object)
            decoded = levels[np.clip(np.rint(values.astype(float)).astype(int), 0, len(levels) - 1)]
            original = df[col].dropna()
            if len(original) and not isinstance(original.iloc[0], str):  # e.g. booleans or numbers as categories
                back = {str(v): v for v in original.unique()}
                decoded = np.array([back.get(v, v) for v in decoded], dtype=object)
            out[col] = np.where(decoded == "__missing__", None, decoded)
        else:
            out[col] = values.astype(float)
    out[target] = yr
    for col in df.columns:
        if col in num and pd.api.types.is_integer_dtype(df[col]):
            out[col] = np.rint(out[col].astype(float)).astype(df[col].dtype)
        elif col in num:
            out[col] = out[col].astype(float)
    return out.astype({target: df[target].dtype}) if df[target].notna().all() else out


def run_balance(opts, method: str | None = None, params: dict[str, Any] | None = None, ratio: Any = None,
                seed: int = 42, notify=lambda _m: None, stdin: Any = None) -> BalanceResult:
    """`mlcli balance`: report the class balance and, with a method, resample the rows."""
    from mlcli.data.dataset import load_dataset
    from mlcli.models.resamplers import get_resampler

    spec = get_resampler(method) if method else None  # an unknown method fails before the data is read
    ds = load_dataset(opts, notify, stdin)
    if ds.task == "regression":
        raise ConfigError(f"balance is for classification targets; '{ds.schema.target}' looks like a regression "
                          "target (use --task binary|multiclass if it holds class codes)")
    y = ds.frame[ds.schema.target]
    before = class_counts(y)
    ratio_before = imbalance_ratio(y)
    tips = advice(before, ratio_before, len(ds.schema.by_role("categorical")), len(ds.schema.by_role("numeric")))
    result = BalanceResult(ds.schema.target, None, before, None, ratio_before, None, tips)
    if spec is None:
        return result
    if ratio_before <= 1.0 + 1e-9:
        result.method, result.after, result.ratio_after = spec.name, before, ratio_before
        result.rows = ds.frame
        result.note = "the classes are already balanced: rows written unchanged"
        return result
    rows, used = resample_frame(ds.frame, ds.schema.target, ds.schema, spec, params or {}, ratio, seed)
    result.method = used
    result.rows = rows
    result.after = class_counts(rows[ds.schema.target])
    result.ratio_after = imbalance_ratio(rows[ds.schema.target])
    if used != spec.name:
        result.note = f"'{spec.name}' became '{used}' because of the categorical columns"
    return result
