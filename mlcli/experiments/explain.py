"""mlcli explain: why a saved model decides as it does, always in terms of the user's own columns.

Loads the bundle and the data, picks the methods (``mlcli.explain``) and explains one row on request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Notify, encode_target, quiet, row_hashes, tell
from mlcli.data.read import read_table
from mlcli.data.schema import Schema, check_against_schema
from mlcli.errors import ConfigError, DataError, did_you_mean
from mlcli.evaluation.scoring import decode, predict_indices
from mlcli.experiments.checks import training_rows
from mlcli.explain.leaks import leak_warnings
from mlcli.explain.native import IMPORTANCE_TYPES, has_native, native
from mlcli.explain.permutation import permutation
from mlcli.explain.results import ExplainResult, MethodResult, RowExplanation, ShapValues, json_value, round_or_none
from mlcli.explain.shap import needs_background, needs_shap_package, shap_summary, shap_values
from mlcli.explain.shap_common import import_shap
from mlcli.models.bundle import Bundle, load_bundle, require_supervised
from mlcli.models.steps import final_model

METHODS = ("native", "permutation", "shap", "all")
SLOW_ROWS = 300  # rows explained by default when SHAP needs a background sample (the slower explainers)


@dataclass
class ExplainRequest:
    bundle: str
    data: str | None = None
    method: str | None = None  # None: native when the model has it, else permutation / shap on DATA
    repeats: int = 5
    importance_type: str | None = None
    row: int | None = None
    where: str | None = None
    sample: int | None = None  # explain at most this many rows (a random sample)
    background: int = 50
    seed: int = 42
    sep: str | None = None
    encoding: str | None = None
    trust_pickle: bool = False  # load an old pickle bundle (it can run code)


@dataclass
class _Data:
    frame: pd.DataFrame  # raw rows as read
    X: pd.DataFrame  # feature frame, same rows
    y: np.ndarray | None  # encoded target for the labelled rows, None without the target column
    labelled: np.ndarray | None  # boolean mask of rows with a target
    label: str


def _load_data(path: str, bundle: Bundle, sep: str | None, encoding: str | None, stdin: Any,
               notify: Notify = quiet) -> _Data:
    df = read_table(path, sep=sep, encoding=encoding, stdin=stdin)
    tell(df, notify)
    label = path if path != "-" else "<stdin>"
    X = check_against_schema(df, bundle.schema, label, notify=notify)
    target = bundle.meta["target"]
    if target not in df.columns:
        return _Data(df, X, None, None, label)
    mask = df[target].notna().to_numpy()
    if not mask.any():
        return _Data(df, X, None, None, label)
    y = encode_target(df.loc[mask, target], bundle.task, bundle.classes)
    return _Data(df, X, y, mask, label)


def _sample_rows(n: int, limit: int | None, seed: int) -> np.ndarray:
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _resolve_method(method: str | None) -> str | None:
    if method is None:
        return None
    m = method.strip().lower()
    if m not in METHODS:
        raise ConfigError(f"unknown --method '{method}'{did_you_mean(m, METHODS)}; choose one of "
                          f"{', '.join(METHODS)}")
    return m


def _find_row(data: _Data, row: int | None, where: str | None) -> tuple[int, str | None]:
    n = len(data.frame)
    if row is not None:
        if not 0 <= row < n:
            raise DataError(f"--row {row} is out of range: {data.label} has {n} row(s), numbered 0 to {n - 1}")
        return row, None
    col, sep, value = (where or "").partition("=")
    col, value = col.strip(), value.strip()
    if not sep or not col:
        raise ConfigError(f"--where expects COLUMN=VALUE, got '{where}'")
    if col not in data.frame.columns:
        raise DataError(f"--where column '{col}' not found in {data.label}{did_you_mean(col, data.frame.columns)}")
    s = data.frame[col]
    if pd.api.types.is_numeric_dtype(s):
        try:
            hits = np.flatnonzero(np.isclose(s.to_numpy(dtype=float, na_value=np.nan), float(value)))
        except ValueError:
            hits = np.array([], dtype=int)
    else:
        hits = np.flatnonzero(s.astype(str).str.strip().to_numpy() == value)
    if len(hits) == 0:
        raise DataError(f"no row of {data.label} has {col}={value}")
    note = f"{len(hits)} rows have {col}={value}; explaining the first (row {hits[0]})" if len(hits) > 1 else None
    return int(hits[0]), note


def explain(req: ExplainRequest, notify: Notify = quiet, stdin: Any = None) -> ExplainResult | RowExplanation:
    method = _check_request(req)
    row_mode = req.row is not None or req.where is not None
    bundle = load_bundle(req.bundle, trust_pickle=req.trust_pickle, notify=notify)
    require_supervised(bundle, "explain")
    pipeline = bundle.pipeline
    model_name = bundle.meta.get("model", type(final_model(pipeline)).__name__)
    target = bundle.meta["target"]
    if row_mode:
        method = "shap"
    _check_data_given(req, method, row_mode, target)
    if (row_mode or method in ("shap", "all")) and needs_shap_package(pipeline):
        import_shap(f"SHAP for model '{model_name}'")  # fail before any work is done
    data = _load_data(req.data, bundle, req.sep, req.encoding, stdin, notify) if req.data else None
    if row_mode:
        assert data is not None
        return _explain_row(req, bundle, data, notify)
    method = method or _default_method(pipeline, data, model_name, notify)
    if method == "permutation" and (data is None or data.y is None):
        raise DataError(f"--method permutation needs labelled data: target column '{target}' not found in "
                        f"{data.label if data else 'DATA'}; give a data file that has it")
    results, shap_vals, shap_frame = _run_methods(req, method, bundle, data, model_name, notify)
    labelled = data.X[data.labelled].reset_index(drop=True) if data is not None and data.y is not None else None
    seen, warnings = (training_rows(row_hashes(labelled, data.y), bundle.train_rows(), "importances measured on "
                                    "them show what the model memorised, not how it generalises")
                      if labelled is not None else (None, []))
    warnings += leak_warnings(results, bundle.schema, labelled, data.y if data is not None else None, req.seed)
    return ExplainResult(str(bundle.path), model_name, bundle.task, target, data.label if data else None,
                         len(data.frame) if data is not None else 0, method, results, warnings, shap_vals, shap_frame,
                         seen)


def _check_request(req: ExplainRequest) -> str | None:
    """The method asked for (None: choose), once every option is checked; before anything is loaded."""
    method = _resolve_method(req.method)
    row_mode = req.row is not None or req.where is not None
    if req.row is not None and req.where is not None:
        raise ConfigError("give --row or --where, not both")
    if row_mode and method not in (None, "shap"):
        raise ConfigError(f"--row/--where explain one prediction with SHAP; drop --method {method} or use "
                          "--method shap")
    if req.importance_type is not None and req.importance_type not in IMPORTANCE_TYPES:
        raise ConfigError(f"unknown --importance-type '{req.importance_type}'"
                          f"{did_you_mean(req.importance_type, IMPORTANCE_TYPES)}; choose one of "
                          f"{', '.join(IMPORTANCE_TYPES)}")
    if req.sample is not None and req.sample < 1:
        raise ConfigError(f"--sample must be at least 1, got {req.sample}")
    if req.background < 1:
        raise ConfigError(f"--background must be at least 1, got {req.background}")
    return method


def _check_data_given(req: ExplainRequest, method: str | None, row_mode: bool, target: str) -> None:
    needs = {"permutation": "labelled DATA (a data file with the target column '{t}')",
             "shap": "DATA (a data file with the model's columns)",
             "all": "labelled DATA (a data file with the target column '{t}')"}
    if req.data is not None:
        return
    if row_mode:
        raise ConfigError("--row/--where need DATA: give the data file the row comes from")
    if method in needs:
        raise ConfigError(f"--method {method} needs {needs[method].format(t=target)}: "
                          f"mlcli explain {req.bundle} DATA --method {method}")


def _default_method(pipeline: Any, data: _Data | None, model_name: str, notify: Notify) -> str:
    """native when the model has its own importances, else permutation on labelled DATA, else shap."""
    if has_native(pipeline):
        return "native"
    if data is None:
        raise ConfigError(f"model '{model_name}' has no native feature importances; give labelled DATA and use "
                          "--method permutation (or shap)")
    method = "permutation" if data.y is not None else "shap"
    notify(f"model '{model_name}' has no native importances: using --method {method}")
    return method


def _run_methods(req: ExplainRequest, method: str, bundle: Bundle, data: _Data | None, model_name: str,
                 notify: Notify) -> tuple[dict[str, MethodResult], ShapValues | None, pd.DataFrame | None]:
    pipeline, schema, task, classes = bundle.pipeline, bundle.schema, bundle.task, bundle.classes
    results: dict[str, MethodResult] = {}
    shap_vals = shap_frame = None
    labelled = data.X[data.labelled].reset_index(drop=True) if data is not None and data.y is not None else None
    for name in (["native", "permutation", "shap"] if method == "all" else [method]):
        if name == "native":
            if method == "all" and not has_native(pipeline):
                notify(f"model '{model_name}' has no native importances; skipping them")
                continue
            results["native"] = native(pipeline, schema, task, model_name, req.importance_type,
                                       data.X if data is not None else None)
        elif name == "permutation":
            if labelled is None:
                notify(f"DATA has no target column '{schema.target}': skipping permutation importance")
                continue
            results["permutation"] = permutation(pipeline, schema, labelled, data.y, task, classes, req.repeats,
                                                 req.seed, bundle.threshold)
        else:
            assert data is not None
            results["shap"], shap_vals, shap_frame = _shap_method(req, pipeline, schema, task, classes, data,
                                                                  notify)
    return results, shap_vals, shap_frame


def _shap_method(req: ExplainRequest, pipeline: Any, schema: Schema, task: str, classes: list[Any], data: _Data,
                 notify: Notify) -> tuple[MethodResult, ShapValues, pd.DataFrame]:
    t0 = time.perf_counter()
    agnostic = needs_background(pipeline)
    n = len(data.X)
    limit = req.sample if req.sample is not None else (SLOW_ROWS if agnostic else None)
    rows = _sample_rows(n, limit, req.seed)
    if len(rows) < n:
        why = " (SHAP with a background sample is slow; change with --sample)" if req.sample is None else ""
        notify(f"SHAP on a random sample of {len(rows)} of {n} rows{why}")
    X = data.X.iloc[rows].reset_index(drop=True)
    background = data.X.iloc[_sample_rows(n, req.background, req.seed + 1)].reset_index(drop=True) \
        if agnostic else None
    sv = shap_values(pipeline, schema, X, task, classes, background=background, seed=req.seed, rows=rows)
    res = shap_summary(sv, X, schema)
    res.seconds = time.perf_counter() - t0
    return res, sv, X


def _explain_row(req: ExplainRequest, bundle: Bundle, data: _Data, notify: Notify) -> RowExplanation:
    pipeline, schema, task, classes = bundle.pipeline, bundle.schema, bundle.task, bundle.classes
    i, note = _find_row(data, req.row, req.where)
    if note:
        notify(note)
    X1 = data.X.iloc[[i]].reset_index(drop=True)
    agnostic = needs_background(pipeline)
    background = data.X.iloc[_sample_rows(len(data.X), req.background, req.seed + 1)].reset_index(drop=True) \
        if agnostic else None
    sv = shap_values(pipeline, schema, X1, task, classes, background=background, seed=req.seed,
                     rows=np.array([i]))
    pred, proba = predict_indices(pipeline, X1, task, bundle.threshold)
    if task == "regression":
        prediction, probabilities, out = json_value(float(pred[0])), None, 0
    else:
        prediction = json_value(decode(pred, classes)[0])
        probabilities = {str(c): round(float(proba[0, j]), 6) for j, c in enumerate(classes)} \
            if proba is not None else None
        out = int(pred[0]) if task == "multiclass" else 0
    contrib = sv.values[0, out]
    order = np.argsort(-np.abs(contrib), kind="stable")
    values = {c: json_value(X1.at[0, c]) for c in X1.columns}
    contributions = [{"name": sv.columns[j], "value": values.get(sv.columns[j]),
                      "contribution": round_or_none(float(contrib[j]))} for j in order]
    target = schema.target
    actual = json_value(data.frame.at[data.frame.index[i], target]) if target in data.frame.columns else None
    return RowExplanation(str(bundle.path), bundle.meta.get("model", "?"), task, target, data.label, i, values,
                          prediction, probabilities, sv.outputs[out], float(sv.base[0, out]),
                          float(sv.output[0, out]), contributions, sv.explainer, actual)
