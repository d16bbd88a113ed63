"""mlcli explain: why a saved model decides as it does, always in terms of the user's own columns.

Three methods, each returning one ranked list of user columns:

- **native**: the model's own importances (gain / split for XGBoost and LightGBM, prediction-value change for
  CatBoost, impurity decrease for scikit-learn trees, coefficients on standardised features for linear models);
- **permutation**: the drop in the task's main metric when one raw user column is shuffled *before*
  preprocessing, so a one-hot or TF-IDF column counts as the one column the user knows;
- **shap**: SHAP contributions (XGBoost / LightGBM / CatBoost through their own TreeSHAP, scikit-learn trees
  through ``shap.TreeExplainer``, every other model through a model-agnostic ``shap`` explainer over the raw
  user columns on a small background sample), summed back to user columns.

Plus one prediction explained (``--row`` / ``--where``) and a leak check. Nothing here imports typer or rich.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.errors import ConfigError, DataError, MissingDependency, did_you_mean
from mlcli.pipeline.bundle import Bundle, load_bundle
from mlcli.pipeline.data import Schema, check_against_schema, read_table
from mlcli.pipeline.metrics import LOWER_IS_BETTER, MAIN_METRIC
from mlcli.pipeline.predict import decode, encode_target, predict_indices

Notify = Callable[[str], None]

METHODS = ("native", "permutation", "shap", "all")
IMPORTANCE_TYPES = ("gain", "split", "cover", "total_gain")
SLOW_ROWS = 300  # rows explained by default when SHAP needs a background sample (the slower explainers)
DEEP_TREE = 30  # shap's path-dependent TreeSHAP loses precision on deeper trees: use a background sample
LEAK_SHARE = 0.5  # a column carrying at least this share of the importance ...
LEAK_SCORE = {"roc_auc": 0.97, "f1_macro": 0.97, "r2": 0.95}  # ... and scoring this well on its own
DOMINANT_SHARE = 0.8  # without labelled data: a column carrying this share gets a hint


def _quiet(_: str) -> None:
    pass


# --------------------------------------------------------------------------------------------- results

@dataclass
class Importance:
    """One user column's importance under one method."""

    name: str
    importance: float
    spread: float | None = None
    direction: str | None = None
    share: float = 0.0
    terms: list[dict[str, Any]] | None = None  # linear models: the column's coefficients

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "importance": _round(self.importance), "spread": _round(self.spread),
             "direction": self.direction, "share": _round(self.share)}
        if self.terms:
            d["terms"] = self.terms
        return d


@dataclass
class MethodResult:
    method: str
    measure: str  # what the importance number means, in words
    features: list[Importance]
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "measure": self.measure, "seconds": round(self.seconds, 3),
                **self.details, "features": [f.to_dict() for f in self.features]}


@dataclass
class ShapValues:
    """SHAP contributions per user column: base + values.sum(-1) == output for every row and output."""

    values: np.ndarray  # (n, k, M): rows, explained outputs, user columns
    base: np.ndarray  # (n, k)
    output: np.ndarray  # (n, k): the model output explained, computed directly from the model
    columns: list[str]
    outputs: list[str]  # a name per explained output, e.g. "log-odds of Survived=1"
    kind: str  # "log-odds" | "raw score" | "probability" | "prediction"
    explainer: str
    rows: np.ndarray  # positions of the explained rows in the data


@dataclass
class ExplainResult:
    bundle: str
    model: str
    task: str
    target: str
    data: str | None
    rows: int
    method: str
    results: dict[str, MethodResult]
    warnings: list[str] = field(default_factory=list)
    shap: ShapValues | None = None  # kept for --plot (beeswarm), not serialised
    shap_frame: pd.DataFrame | None = None

    @property
    def primary(self) -> MethodResult:
        for name in ("shap", "permutation", "native"):
            if name in self.results:
                return self.results[name]
        raise AssertionError("no method ran")

    def to_dict(self) -> dict[str, Any]:
        return {"command": "explain", "bundle": self.bundle, "model": self.model, "task": self.task,
                "target": self.target, "data": self.data, "rows": self.rows, "method": self.method,
                "features": [f.to_dict() for f in self.primary.features],
                "methods": {k: v.to_dict() for k, v in self.results.items()}, "warnings": self.warnings}


@dataclass
class RowExplanation:
    bundle: str
    model: str
    task: str
    target: str
    data: str
    row: int
    values: dict[str, Any]
    prediction: Any
    probabilities: dict[str, float] | None
    explained: str  # which output is explained, e.g. "log-odds of Survived=1"
    base_value: float
    output_value: float
    contributions: list[dict[str, Any]]  # name, value, contribution; largest |contribution| first
    explainer: str
    actual: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"command": "explain", "bundle": self.bundle, "model": self.model, "task": self.task,
                "target": self.target, "data": self.data, "row": self.row, "values": self.values,
                "prediction": self.prediction, "actual": self.actual, "probabilities": self.probabilities,
                "explained": self.explained, "base_value": _round(self.base_value),
                "output_value": _round(self.output_value), "contributions": self.contributions,
                "explainer": self.explainer}


def _round(value: float | None, digits: int = 6) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------- model anatomy

def final_model(pipeline: Any) -> Any:
    """The library estimator at the end of the pipeline (inside mlcli's ClassWeighted wrapper, if any)."""
    model = pipeline.steps[-1][1]
    inner = getattr(model, "estimator_", None)
    return inner if inner is not None and type(model).__name__ == "ClassWeighted" else model


def unwrap(model: Any) -> Any:
    """The fitted estimator inside a CalibratedClassifierCV (the SVM classifiers), else the model itself."""
    if type(model).__name__ == "CalibratedClassifierCV" and getattr(model, "calibrated_classifiers_", None):
        return model.calibrated_classifiers_[0].estimator
    return model


def transform(pipeline: Any, X: pd.DataFrame) -> Any:
    """What the model sees: every step but the last (resamplers are skipped, as at predict time)."""
    from mlcli.pipeline.preprocess import model_input

    return model_input(pipeline, X)


def sources_of(pipeline: Any) -> list[str] | None:
    """The user column behind each model feature; None when the preprocessing cannot say (a text-only model)."""
    from mlcli.pipeline.preprocess import model_input_sources

    try:
        return model_input_sources(pipeline)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _preprocessor(pipeline: Any) -> Any:
    return pipeline.named_steps["preprocess"]


def _column_transformer(pre: Any) -> Any:
    return pre.named_steps["columns"] if hasattr(pre, "named_steps") and "columns" in pre.named_steps else pre


def _has_pca(pre: Any) -> bool:
    return hasattr(pre, "named_steps") and "pca" in pre.named_steps


def feature_labels(pipeline: Any) -> list[str]:
    """A readable name per model feature: 'Age', 'Age (missing)', 'Sex=female', "Name: 'mrs'", 'date.month'."""
    sources = sources_of(pipeline) or []
    pre = _preprocessor(pipeline)
    if _has_pca(pre) or "encode" in pipeline.named_steps:
        return sources
    try:
        raw = [str(n) for n in _column_transformer(pre).get_feature_names_out()]
    except Exception:  # a step without feature names: fall back to the user column
        return sources
    labels = []
    for name, src in zip(raw, sources):
        branch, _, feat = name.partition("__")
        if branch == "num":
            labels.append(f"{feat.removeprefix('missingindicator_')} (missing)" if feat.startswith(
                "missingindicator_") else feat)
        elif branch.startswith("cat:"):
            value = feat.removeprefix(f"{src}_") if feat != src else None
            labels.append(f"{src}={value}" if value is not None else src)
        elif branch.startswith("text:"):
            labels.append(f"{src}: '{feat}'")
        elif branch.startswith("date:"):
            labels.append(f"{src}.{feat}")
        else:
            labels.append(feat or src)
    return labels


def _standardised(pipeline: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per model feature: (comes out of a StandardScaler, comes from a numeric or date column)."""
    from sklearn.preprocessing import StandardScaler

    pre = _preprocessor(pipeline)
    if _has_pca(pre):
        k = pre.named_steps["pca"].pca_.n_components_
        return np.zeros(k, dtype=bool), np.zeros(k, dtype=bool)
    ct = _column_transformer(pre)
    n_out = sum(s.stop - s.start for s in ct.output_indices_.values())
    scaled, numeric = np.zeros(n_out, dtype=bool), np.zeros(n_out, dtype=bool)
    for name, trans, _ in ct.transformers_:
        if name not in ct.output_indices_:
            continue
        idx = ct.output_indices_[name]
        last = trans.steps[-1][1] if hasattr(trans, "steps") else trans
        scaled[idx.start:idx.stop] = isinstance(last, StandardScaler)
        numeric[idx.start:idx.stop] = name == "num" or name.startswith("date:")
    return scaled, numeric


def _column_order(schema: Schema, sources: list[str]) -> list[str]:
    used = [c.name for c in schema.used]
    return [c for c in used if c in set(sources)] + list(dict.fromkeys(s for s in sources if s not in used))


def _aggregator(sources: list[str], columns: list[str]):
    """A sparse (features x columns) 0/1 matrix: feature-level values @ A = user-column values."""
    from scipy import sparse

    pos = {c: i for i, c in enumerate(columns)}
    rows = np.arange(len(sources))
    cols = np.array([pos[s] for s in sources])
    return sparse.csr_matrix((np.ones(len(sources)), (rows, cols)), shape=(len(sources), len(columns)))


def _kind_of(model: Any) -> str:
    """'xgboost' | 'lightgbm' | 'catboost' | 'sklearn-tree' | 'linear' | 'other' (which SHAP route to take)."""
    mod = type(model).__module__
    name = type(model).__name__
    if mod.startswith("xgboost"):
        return "xgboost"
    if mod.startswith("lightgbm"):
        return "lightgbm"
    if mod.startswith("catboost"):
        return "catboost"
    if name in ("DecisionTreeClassifier", "DecisionTreeRegressor", "RandomForestClassifier",
                "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
                "HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
                "GradientBoostingClassifier", "GradientBoostingRegressor"):
        return "sklearn-tree"
    return "other"


# --------------------------------------------------------------------------------------------- native

def _native_values(pipeline: Any, importance_type: str | None, X: pd.DataFrame | None
                   ) -> tuple[np.ndarray, str, str] | None:
    """(values, kind, measure) per model feature, or None when the model has no importances of its own.

    kind 'share' -> non-negative importances (gain, impurity ...); kind 'coef' -> signed coefficients (k, p)
    on standardised features.
    """
    model = final_model(pipeline)
    kind = _kind_of(model)
    if importance_type is not None and kind not in ("xgboost", "lightgbm"):
        raise ConfigError(f"--importance-type applies to xgboost and lightgbm models only, not "
                          f"'{type(model).__name__}'")
    itype = importance_type or "gain"
    if kind == "xgboost":
        booster = model.get_booster()
        xgb_type = {"split": "weight"}.get(itype, itype)
        scores = booster.get_score(importance_type=xgb_type)
        n = booster.num_features()
        names = booster.feature_names
        values = np.zeros(n)
        for key, v in scores.items():
            i = names.index(key) if names else int(key.lstrip("f"))
            values[i] = v
        return values, "share", f"share of total {itype.replace('_', ' ')} in the trees"
    if kind == "lightgbm":
        if itype not in ("gain", "split"):
            raise ConfigError(f"--importance-type for lightgbm is gain or split, not '{itype}'")
        values = np.asarray(model.booster_.feature_importance(importance_type=itype), dtype=float)
        return values, "share", f"share of total {'gain' if itype == 'gain' else 'splits'} in the trees"
    if kind == "catboost":
        return (np.asarray(model.get_feature_importance(), dtype=float), "share",
                "share of total prediction-value change (CatBoost)")
    est = unwrap(model)
    if hasattr(est, "feature_importances_"):
        try:
            values = np.asarray(est.feature_importances_, dtype=float)
        except (AttributeError, ValueError):
            values = None
        if values is not None:
            return values, "share", "share of total impurity decrease in the trees"
    try:
        coef = getattr(est, "coef_", None)
    except (AttributeError, ValueError):  # SVC.coef_ exists only for the linear kernel
        coef = None
    if coef is None:
        return None
    coef = np.atleast_2d(np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=float))
    scale = np.ones(coef.shape[1])
    standardised, numeric = _standardised(pipeline)
    rescale = numeric & ~standardised
    if len(rescale) == coef.shape[1] and X is not None and rescale.any():
        # numeric features the pipeline did not standardise (--scale minmax/robust/none): scale their
        # coefficients by the feature's standard deviation in the data given
        Xt = transform(pipeline, X)
        for j in np.flatnonzero(rescale):
            col = Xt[:, [j]]
            col = col.toarray() if hasattr(col, "toarray") else np.asarray(col, dtype=float)
            sd = float(np.nanstd(col))
            scale[j] = sd if sd > 0 else 1.0
    is_logistic = type(est).__name__ == "LogisticRegression"
    unit = "log-odds" if is_logistic else ("decision value" if type(est).__module__.startswith("sklearn.svm")
                                           else "target units")
    if len(rescale) == coef.shape[1] and X is None and rescale.any():
        measure = (f"largest |coefficient| among the column's terms ({unit}; the numeric columns were not "
                   "standardised: give DATA to compare them per standard deviation)")
    else:
        measure = (f"largest |coefficient| among the column's terms, on standardised numeric features ({unit} "
                   "per standard deviation)")
    return coef * scale, "coef", measure


def _strongest_term(magnitude: np.ndarray, sources: list[str], columns: list[str]) -> list[float]:
    """Per user column, the largest |coefficient| among its terms (a one-hot category, a text token ...):
    summing would make a column with thousands of TF-IDF terms look important for having many terms."""
    best = dict.fromkeys(columns, 0.0)
    for src, v in zip(sources, magnitude):
        best[src] = max(best[src], float(v))
    return [best[c] for c in columns]


def has_native(pipeline: Any) -> bool:
    return _native_values(pipeline, None, None) is not None


def _shares(items: list[Importance]) -> None:
    total = sum(max(i.importance, 0.0) for i in items) or 1.0
    for i in items:
        i.share = max(i.importance, 0.0) / total


def _direction_of_terms(terms: list[tuple[str, float]], single_numeric: bool) -> str | None:
    if not terms:
        return None
    if single_numeric:
        return "+" if terms[0][1] > 0 else ("-" if terms[0][1] < 0 else None)
    label, value = max(terms, key=lambda t: t[1])
    return f"highest for {_term_value(label)}" if value > 0 else None


def _term_value(label: str) -> str:
    if "=" in label:
        return label.split("=", 1)[1]
    if ": " in label:
        return label.split(": ", 1)[1]
    return label


def native(pipeline: Any, schema: Schema, task: str, model_name: str, importance_type: str | None = None,
           X: pd.DataFrame | None = None) -> MethodResult:
    """The model's own importances summed back to user columns, largest first."""
    t0 = time.perf_counter()
    got = _native_values(pipeline, importance_type, X)
    if got is None:
        raise ConfigError(f"model '{model_name}' has no native feature importances; use --method permutation "
                          "(or shap) with labelled DATA")
    values, kind, measure = got
    sources = sources_of(pipeline) or []
    if len(sources) != values.shape[-1]:
        raise ConfigError(f"model '{model_name}' reports {values.shape[-1]} importances for {len(sources)} "
                          "features; its native importances cannot be mapped to columns: use --method permutation")
    columns = _column_order(schema, sources)
    items: list[Importance] = []
    details: dict[str, Any] = {}
    if kind == "share":
        totals = np.asarray(values @ _aggregator(sources, columns).toarray()).ravel()
        total = totals.sum() or 1.0
        items = [Importance(c, float(v / total)) for c, v in zip(columns, totals)]
    else:
        labels = feature_labels(pipeline)
        per_col = _strongest_term(np.abs(values).mean(axis=0), sources, columns)
        binaryish = values.shape[0] == 1
        logistic = "log-odds" in measure
        roles = {c.name: c.role for c in schema.columns}
        for j, col in enumerate(columns):
            idx = [i for i, s in enumerate(sources) if s == col]
            terms = sorted(((labels[i], float(values[0, i])) for i in idx), key=lambda t: -abs(t[1])) \
                if binaryish else []
            single = roles.get(col) == "numeric" and len([t for t in terms if not t[0].endswith("(missing)")]) == 1
            if single:
                terms = [t for t in terms if not t[0].endswith("(missing)")] + \
                        [t for t in terms if t[0].endswith("(missing)")]
            term_docs = [{"feature": lab, "coefficient": _round(v), **({"odds_ratio": _round(math.exp(v))}
                                                                         if logistic else {})}
                         for lab, v in terms[:10]]
            items.append(Importance(col, float(per_col[j]), None, _direction_of_terms(terms, single), 0.0,
                                    term_docs or None))
        details["coefficients"] = "binary" if binaryish and task != "regression" else (
            "regression" if task == "regression" else "averaged over classes")
        if logistic and binaryish:
            details["odds_ratios"] = True
    _shares(items)
    items.sort(key=lambda i: -i.importance)
    details.setdefault("kind", kind)
    return MethodResult("native", measure, items, time.perf_counter() - t0, details)


def native_importances(pipeline: Any) -> list[dict[str, Any]]:
    """The model's own importances as shares of the total per user column, largest first ([] if it has none).

    The compact form the train and cv reports show; ``mlcli explain`` gives the full picture.
    """
    try:
        got = _native_values(pipeline, None, None)
    except ConfigError:
        return []
    if got is None:
        return []
    values, kind, _ = got
    sources = sources_of(pipeline) or []
    if len(sources) != values.shape[-1]:
        return []
    if kind == "coef":
        columns = list(dict.fromkeys(sources))
        totals = dict(zip(columns, _strongest_term(np.abs(values).mean(axis=0), sources, columns)))
    else:
        totals = {}
        for src, v in zip(sources, values):
            totals[src] = totals.get(src, 0.0) + float(v)
    total = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    return [{"feature": k, "importance": round(v / total, 6)} for k, v in ranked]


# --------------------------------------------------------------------------------------------- permutation

def main_score(task: str, y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, n_classes: int
               ) -> tuple[str, float]:
    """(metric name, value) of the task's main metric (metrics.MAIN_METRIC); accuracy when a binary model
    gives no probabilities."""
    from sklearn import metrics as m

    key = MAIN_METRIC[task]
    if key == "roc_auc":
        if proba is None:
            return "accuracy", float(m.accuracy_score(y, pred))
        return key, float(m.roc_auc_score(y, proba[:, 1]))
    if key == "f1_macro":
        return key, float(m.f1_score(y, pred, average="macro", labels=list(range(n_classes)), zero_division=0))
    if key == "rmse":
        return key, float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(pred, float)) ** 2)))
    raise AssertionError(key)


def permutation(pipeline: Any, schema: Schema, X: pd.DataFrame, y: np.ndarray, task: str, classes: list[Any],
                repeats: int = 5, seed: int = 42, threshold: float | None = None) -> MethodResult:
    """Shuffle each raw user column ``repeats`` times; importance = mean drop in the main metric."""
    t0 = time.perf_counter()
    if repeats < 1:
        raise ConfigError(f"--repeats must be at least 1, got {repeats}")
    if task != "regression" and len(np.unique(y)) < 2 and MAIN_METRIC[task] == "roc_auc":
        raise DataError("permutation importance in ROC AUC needs labelled rows of both classes; the data has "
                        f"only '{classes[int(y[0])]}'")
    k = len(classes)
    pred, proba = predict_indices(pipeline, X, task, threshold)
    metric, baseline = main_score(task, y, pred, proba, k)
    lower = metric in LOWER_IS_BETTER
    rng = np.random.default_rng(seed)
    n = len(X)
    per_batch = max(1, min(repeats, 200_000 // max(n, 1)))
    items = []
    for col in [c.name for c in schema.used]:
        drops: list[float] = []
        done = 0
        while done < repeats:
            b = min(per_batch, repeats - done)
            frames = []
            for _ in range(b):
                Xp = X.copy()
                Xp[col] = X[col].to_numpy()[rng.permutation(n)]
                frames.append(Xp)
            big = pd.concat(frames, ignore_index=True)
            bp, bproba = predict_indices(pipeline, big, task, threshold)
            for r in range(b):
                sl = slice(r * n, (r + 1) * n)
                _, score = main_score(task, y, bp[sl], None if bproba is None else bproba[sl], k)
                drops.append((score - baseline) if lower else (baseline - score))
            done += b
        items.append(Importance(col, float(np.mean(drops)), float(np.std(drops)), None))
    _shares(items)
    items.sort(key=lambda i: -i.importance)
    measure = (f"increase in {metric} when the column is shuffled" if lower
               else f"drop in {metric} when the column is shuffled") + f" (mean ± std over {repeats} repeats)"
    return MethodResult("permutation", measure, items, time.perf_counter() - t0,
                        {"metric": metric, "baseline": _round(baseline), "repeats": repeats, "rows": n})


# --------------------------------------------------------------------------------------------- SHAP

def _import_shap(purpose: str):
    try:
        import shap
    except ImportError as exc:
        raise MissingDependency("shap", purpose, "explain") from exc
    return shap


def _dense(Xt: Any) -> np.ndarray:
    return Xt.toarray() if hasattr(Xt, "toarray") else np.asarray(Xt)


def _chunks(n: int, p: int, budget: int = 4_000_000):
    step = max(1, budget // max(p, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _as_nkp(arr: np.ndarray, n: int, k: int, p: int) -> np.ndarray:
    """Contributions (with the bias as the last feature) reshaped to (n, k, p)."""
    arr = np.asarray(arr, dtype=float)
    if arr.ndim == 2 and k > 1:
        arr = arr.reshape(n, k, p)
    elif arr.ndim == 2:
        arr = arr[:, None, :]
    return arr


def _n_outputs(task: str, classes: list[Any]) -> int:
    return len(classes) if task == "multiclass" else 1


def _output_names(kind: str, task: str, target: str, classes: list[Any]) -> list[str]:
    if task == "regression":
        return [f"predicted {target}"]
    if task == "binary":
        return [f"{kind} of {target}={classes[1]}"]
    return [f"{kind} of {target}={c}" for c in classes]


def _tree_contributions(pipeline: Any, Xt: Any, task: str, k: int) -> tuple[np.ndarray, np.ndarray, str, str]:
    """(contribs (n, k, p+1) with the bias last, model output (n, k), kind, explainer) for tree libraries."""
    model = final_model(pipeline)
    kind = _kind_of(model)
    n = Xt.shape[0]
    if kind == "xgboost":
        import xgboost as xgb

        booster = model.get_booster()
        p = booster.num_features()
        contrib = booster.predict(xgb.DMatrix(Xt, missing=model.missing), pred_contribs=True)
        margin = model.predict(Xt, output_margin=True)
        explainer = "XGBoost pred_contribs (TreeSHAP)"
    elif kind == "lightgbm":
        p = model.n_features_in_
        raw = model.predict(Xt, pred_contrib=True)
        if isinstance(raw, list):  # sparse multiclass input: one sparse matrix per class
            raw = np.stack([_dense(m) for m in raw], axis=1)
        contrib = _dense(raw)
        margin = model.predict(Xt, raw_score=True)
        explainer = "LightGBM pred_contrib (TreeSHAP)"
    else:  # catboost
        from catboost import Pool

        p = Xt.shape[1]
        pool = Pool(Xt, cat_features=model.get_cat_feature_indices())
        contrib = model.get_feature_importance(pool, type="ShapValues")
        margin = model.predict(Xt, prediction_type="RawFormulaVal")
        explainer = "CatBoost ShapValues (TreeSHAP)"
    contrib = _as_nkp(contrib, n, k, p + 1)
    if contrib.shape[1] != k:  # e.g. a binary model explained with one output already
        contrib = contrib[:, -k:, :]
    margin = np.asarray(margin, dtype=float).reshape(n, -1)[:, -k:]
    kind_name = "prediction" if task == "regression" else ("log-odds" if task == "binary" else "raw score")
    return contrib, margin, kind_name, explainer


def _tree_depth(model: Any) -> int:
    """The deepest tree of a scikit-learn tree model (0 when unknown: histogram boosting keeps trees small)."""
    if hasattr(model, "tree_"):
        return int(model.tree_.max_depth)
    trees = getattr(model, "estimators_", None)
    if trees is None:
        return 0
    return max((int(t.tree_.max_depth) for t in np.ravel(np.asarray(trees, dtype=object))), default=0)


def _sklearn_tree_contributions(pipeline: Any, Xt: Any, task: str, k: int, Xt_background: Any = None
                                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    """(contribs (n, k, p), base (n, k), output (n, k), kind, explainer) through shap's TreeExplainer.

    Path-dependent TreeSHAP (no background) for shallow trees; interventional TreeSHAP on a background sample
    for deep ones (fully grown forests on many features), where the path-dependent sums lose all precision.
    """
    shap = _import_shap("SHAP for scikit-learn tree models")
    model = final_model(pipeline)
    boosted = type(model).__name__.startswith(("HistGradientBoosting", "GradientBoosting"))
    n, p = Xt.shape
    if Xt_background is None:
        explainer = shap.TreeExplainer(model, model_output="raw")
        how, chunks = "shap TreeExplainer (path-dependent)", _chunks(n, p)
    else:
        bg = _dense(Xt_background).astype(np.float64)
        explainer = shap.TreeExplainer(model, data=bg, feature_perturbation="interventional", model_output="raw")
        how = f"shap TreeExplainer (interventional, {len(bg)} background rows)"
        chunks = (slice(i, min(n, i + 32)) for i in range(0, n, 32))  # short calls: shap prints no progress bar
    parts = []
    for sl in chunks:
        dense = _dense(Xt[sl]).astype(np.float64)
        sv = np.asarray(explainer.shap_values(dense, check_additivity=False), dtype=float)
        if sv.ndim == 2:
            sv = sv[:, None, :]
        else:
            sv = np.transpose(sv, (0, 2, 1))  # (n, p, k) -> (n, k, p)
        parts.append(sv)
    values = np.concatenate(parts, axis=0)
    base = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float)).ravel()
    if task == "binary" and values.shape[1] == 2:
        values, base = values[:, 1:, :], base[1:]
    base = np.broadcast_to(base, (n, values.shape[1])).copy()
    if task == "regression":
        output, kind = np.asarray(model.predict(_dense(Xt)), dtype=float).reshape(n, 1), "prediction"
    elif boosted:
        output = np.asarray(model.decision_function(_dense(Xt)), dtype=float).reshape(n, -1)
        kind = "log-odds" if task == "binary" else "raw score"
    else:
        output = np.asarray(model.predict_proba(_dense(Xt)), dtype=float)
        output = output[:, 1:] if task == "binary" else output
        kind = "probability"
    return values, base, output, kind, how


def _blocks(pipeline: Any, schema: Schema) -> list[np.ndarray] | None:
    """Per user column (in ``schema.used`` order), the model features computed from that column alone.

    None when some feature mixes columns (--poly interactions, --pca components).
    """
    found = sources_of(pipeline)
    if found is None or _has_pca(_preprocessor(pipeline)):
        return None
    sources = np.asarray(found, dtype=object)
    used = [c.name for c in schema.used]
    if not set(sources) <= set(used):
        return None
    return [np.flatnonzero(sources == c) for c in used]


class _Assembler:
    """Masked rows in the model's feature space without preprocessing them again.

    Every row the explainer asks for takes each user column's value from some row of a pool (the explained
    rows plus the background rows). Preprocessing acts column by column, so the model features of such a
    row are the pooled rows' precomputed feature blocks, put side by side.
    """

    def __init__(self, pipeline: Any, pool: pd.DataFrame, blocks: list[np.ndarray]):
        from scipy import sparse

        T = transform(pipeline, pool)
        self.sparse = sparse.issparse(T)
        T = T.tocsc() if self.sparse else np.asarray(T)
        self.blocks = [(T[:, idx].tocsr() if self.sparse else T[:, idx]) for idx in blocks]
        self.inverse = np.argsort(np.concatenate(blocks), kind="stable")

    def __call__(self, codes: np.ndarray) -> Any:
        from scipy import sparse

        rows = codes.astype(int)
        parts = [blk[rows[:, j]] for j, blk in enumerate(self.blocks)]
        if self.sparse:
            return sparse.hstack(parts, format="csr")[:, self.inverse]
        return np.hstack(parts)[:, self.inverse]


def _output_fn(obj: Any, task: str, model: Any) -> tuple[Callable[[Any], np.ndarray], str]:
    """The output a model-agnostic explainer explains, as a function of ``obj``'s input (the pipeline's raw
    rows or the model's features): log-odds for logistic models, else the probability (classifiers) or the
    prediction (regression); shape (n, k)."""
    if task == "regression":
        return (lambda X: np.asarray(obj.predict(X), dtype=float).reshape(X.shape[0], 1)), "prediction"
    if type(model).__name__ == "LogisticRegression":
        return (lambda X: np.asarray(obj.decision_function(X), dtype=float).reshape(X.shape[0], -1)), \
            ("log-odds" if task == "binary" else "raw score")

    def proba(X):
        pr = np.asarray(obj.predict_proba(X), dtype=float)
        return pr[:, 1:] if task == "binary" else pr
    return proba, "probability"


def _agnostic(pipeline: Any, schema: Schema, X: pd.DataFrame, background: pd.DataFrame, task: str, seed: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, str]:
    """Shapley values over the raw user columns with shap's KernelExplainer on a background sample.

    The explainer masks 'which pooled row each column's value comes from', so any column type can be masked.
    """
    shap = _import_shap("SHAP for this model (a model-agnostic explainer)")
    model = final_model(pipeline)
    pool = pd.concat([X, background], ignore_index=True)
    n, m = len(X), X.shape[1]
    blocks = _blocks(pipeline, schema)
    if blocks is not None:
        assemble = _Assembler(pipeline, pool, blocks)
        model_fn, kind = _output_fn(model, task, model)

        def f(codes: np.ndarray) -> np.ndarray:
            return model_fn(assemble(np.asarray(codes)))
    else:
        raw_fn, kind = _output_fn(pipeline, task, model)
        pooled = {c: pool[c].to_numpy() for c in X.columns}

        def f(codes: np.ndarray) -> np.ndarray:
            rows = np.asarray(codes).astype(int)
            return raw_fn(pd.DataFrame({c: pooled[c][rows[:, j]] for j, c in enumerate(X.columns)}))
    bg = np.repeat(np.arange(n, len(pool), dtype=float)[:, None], m, axis=1)
    codes = np.repeat(np.arange(n, dtype=float)[:, None], m, axis=1)
    # Kernel SHAP enumerates every coalition while 2^m - 2 <= nsamples (exact Shapley values, and no
    # numba compilation to wait for); beyond that it samples coalitions
    nsamples = 2 ** m if m <= 11 else 2 * m + 2048
    explainer = shap.KernelExplainer(f, bg, keep_index=False)
    raw = explainer.shap_values(codes, nsamples=nsamples, l1_reg=False, silent=True)
    values = np.asarray(raw, dtype=float)
    if isinstance(raw, list):  # older shap: one (n, m) array per output
        values = np.transpose(values, (1, 2, 0))
    values = values[:, None, :] if values.ndim == 2 else np.transpose(values, (0, 2, 1))
    base = np.broadcast_to(np.atleast_1d(np.asarray(explainer.expected_value, dtype=float)),
                           (n, values.shape[1])).copy()
    name = "every coalition" if m <= 11 else f"{nsamples} sampled coalitions"
    output, _ = _output_fn(pipeline, task, model)
    return values, base, output(X), kind, (f"shap KernelExplainer over the raw columns ({name}, "
                                          f"{len(bg)} background rows)")


def shap_values(pipeline: Any, schema: Schema, X: pd.DataFrame, task: str, classes: list[Any], *,
                background: pd.DataFrame | None = None, seed: int = 42, rows: np.ndarray | None = None
                ) -> ShapValues:
    """SHAP contributions of every row of ``X`` per user column (see :class:`ShapValues`)."""
    k = _n_outputs(task, classes)
    rows = np.arange(len(X)) if rows is None else rows
    if not _agnostic_only(pipeline):
        sources = sources_of(pipeline)
        assert sources is not None
        columns = _column_order(schema, sources)
        agg = _aggregator(sources, columns)
        Xt = transform(pipeline, X)
        if _kind_of(final_model(pipeline)) == "sklearn-tree":
            Xt_bg = None if background is None or not needs_background(pipeline) else transform(pipeline, background)
            vals, base, output, out_kind, explainer = _sklearn_tree_contributions(pipeline, Xt, task, k, Xt_bg)
            feat = vals
        else:
            contrib, output, out_kind, explainer = _tree_contributions(pipeline, Xt, task, k)
            feat, base = contrib[:, :, :-1], contrib[:, :, -1]
        n, kk, p = feat.shape
        values = np.asarray((feat.reshape(n * kk, p) @ agg).reshape(n, kk, len(columns)))
        return ShapValues(values, base, output, columns, _output_names(out_kind, task, schema.target, classes),
                          out_kind, explainer, rows)
    if background is None:
        background = X
    values, base, output, out_kind, explainer = _agnostic(pipeline, schema, X, background, task, seed)
    return ShapValues(values, base, output, list(X.columns), _output_names(out_kind, task, schema.target, classes),
                      out_kind, explainer, rows)


def needs_shap_package(pipeline: Any) -> bool:
    """XGBoost, LightGBM and CatBoost compute SHAP values themselves; every other model needs ``shap``."""
    return _agnostic_only(pipeline) or _kind_of(final_model(pipeline)) == "sklearn-tree"


def needs_background(pipeline: Any) -> bool:
    """Whether SHAP for this model compares with a background sample (and is slower)."""
    model = final_model(pipeline)
    return _agnostic_only(pipeline) or (_kind_of(model) == "sklearn-tree" and _tree_depth(model) > DEEP_TREE)


def _agnostic_only(pipeline: Any) -> bool:
    """True unless a tree library's own SHAP applies and its features map back to user columns."""
    if _kind_of(final_model(pipeline)) == "other":
        return True
    sources = sources_of(pipeline)
    return sources is None or _has_pca(_preprocessor(pipeline)) or any(s.startswith("(") for s in sources)


def _direction(values: np.ndarray, raw: pd.Series | None, role: str | None) -> str | None:
    """How a column pushes the output: '+'/'-' (higher values raise/lower it), 'mixed', or for categorical
    columns the value that raises it most ('highest for female')."""
    if raw is None or len(values) < 3:
        return None
    if role == "numeric":
        x = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x)
        if ok.sum() < 3 or np.std(x[ok]) == 0 or np.std(values[ok]) == 0:
            return None
        r = float(np.corrcoef(x[ok], values[ok])[0, 1])
        return "+" if r > 0.2 else ("-" if r < -0.2 else "mixed")
    if role == "categorical":
        s = pd.Series(values).groupby(raw.fillna("(missing)").astype(str).to_numpy()).agg(["mean", "size"])
        s = s[s["size"] >= max(2, 0.01 * len(values))]
        if s.empty:
            return None
        return f"highest for {s['mean'].idxmax()}"
    return None


def shap_summary(sv: ShapValues, X: pd.DataFrame, schema: Schema) -> MethodResult:
    roles = {c.name: c.role for c in schema.columns}
    absval = np.abs(sv.values)  # (n, k, M)
    per_row = absval.mean(axis=1)  # (n, M)
    items = []
    for j, col in enumerate(sv.columns):
        direction = None
        if sv.values.shape[1] == 1 and col in X.columns:
            direction = _direction(sv.values[:, 0, j], X[col].reset_index(drop=True), roles.get(col))
        items.append(Importance(col, float(per_row[:, j].mean()), float(per_row[:, j].std()), direction))
    _shares(items)
    items.sort(key=lambda i: -i.importance)
    over = " averaged over classes" if sv.values.shape[1] > 1 else ""
    measure = f"mean |SHAP contribution| to the {sv.kind}{over} (spread: std over rows)"
    return MethodResult("shap", measure, items, 0.0,
                        {"explainer": sv.explainer, "output": sv.outputs[0] if len(sv.outputs) == 1 else sv.kind,
                         "rows": int(len(sv.rows)), "base_value": _round(float(sv.base[:, 0].mean()))
                         if sv.values.shape[1] == 1 else None})


# --------------------------------------------------------------------------------------------- leaks

def single_column_score(schema: Schema, X: pd.DataFrame, y: np.ndarray, column: str, seed: int = 42
                        ) -> tuple[str, float] | None:
    """How well ``column`` alone predicts the target: a small tree's cross-validated main metric (R² for
    regression). None when there are too few rows to tell."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

    from mlcli.pipeline.build import ModelConfig, build_pipeline

    info = next((c for c in schema.used if c.name == column), None)
    if info is None or len(X) < 30:
        return None
    task = schema.task
    sub = Schema(schema.target, task, [info])
    pipe = build_pipeline(sub, ModelConfig("tree", {"max_depth": 6, "min_samples_leaf": 5}, seed=seed,
                                           n_threads=1))
    Xc = X[[column]].reset_index(drop=True)
    if task == "regression":
        cv = KFold(3, shuffle=True, random_state=seed)
        pred = cross_val_predict(pipe, Xc, y, cv=cv)
        from sklearn.metrics import r2_score

        return "r2", float(r2_score(y, pred))
    counts = np.bincount(y)
    if counts[counts > 0].min() < 3:
        return None
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    proba = cross_val_predict(pipe, Xc, y, cv=cv, method="predict_proba")
    k = proba.shape[1]
    metric, score = main_score(task, y, proba.argmax(axis=1), proba, k)
    return metric, score


def leak_warnings(results: dict[str, MethodResult], schema: Schema, X: pd.DataFrame | None,
                  y: np.ndarray | None, seed: int = 42) -> list[str]:
    """A warning for a column that carries most of the importance and alone nearly predicts the target."""
    out = []
    checked: set[str] = set()
    for res in results.values():
        if not res.features:
            continue
        top = res.features[0]
        if top.name in checked or top.name.startswith("("):
            continue
        if X is None or y is None:
            if top.share >= DOMINANT_SHARE:
                checked.add(top.name)
                out.append(f"column '{top.name}' carries {top.share:.0%} of the {res.method} importance; give "
                           "labelled DATA to check whether it leaks the target")
            continue
        if top.share < LEAK_SHARE:
            continue
        checked.add(top.name)
        got = single_column_score(schema, X, y, top.name, seed)
        if got is None:
            continue
        metric, score = got
        if score >= LEAK_SCORE.get(metric, 1.1):
            shown = "R²" if metric == "r2" else metric
            out.append(f"possible leak: column '{top.name}' carries {top.share:.0%} of the {res.method} importance "
                       f"and alone predicts '{schema.target}' ({shown} {score:.3f} on its own); check it is not "
                       "a copy of the target or recorded after the outcome")
    return out


# --------------------------------------------------------------------------------------------- data

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


@dataclass
class _Data:
    frame: pd.DataFrame  # raw rows as read
    X: pd.DataFrame  # feature frame, same rows
    y: np.ndarray | None  # encoded target for the labelled rows, None without the target column
    labelled: np.ndarray | None  # boolean mask of rows with a target
    label: str


def _load_data(path: str, bundle: Bundle, sep: str | None, encoding: str | None, stdin: Any) -> _Data:
    df = read_table(path, sep=sep, encoding=encoding, stdin=stdin)
    label = path if path != "-" else "<stdin>"
    X = check_against_schema(df, bundle.schema, label)
    target = bundle.meta["target"]
    if target not in df.columns:
        return _Data(df, X, None, None, label)
    mask = df[target].notna().to_numpy()
    if not mask.any():
        return _Data(df, X, None, None, label)
    yl = df.loc[mask, target]
    if bundle.task == "regression":
        num = pd.to_numeric(yl, errors="coerce")
        if num.isna().any():
            raise DataError(f"target '{target}' has non-numeric values like '{yl[num.isna()].iloc[0]}'")
        y = num.to_numpy(dtype=float)
    else:
        y = encode_target(yl, bundle.classes)
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


# --------------------------------------------------------------------------------------------- entry point

def explain(req: ExplainRequest, notify: Notify = _quiet, stdin: Any = None) -> ExplainResult | RowExplanation:
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
    bundle = load_bundle(req.bundle)
    pipeline, schema, task, classes = bundle.pipeline, bundle.schema, bundle.task, bundle.classes
    model_name = bundle.meta.get("model", type(final_model(pipeline)).__name__)
    target = bundle.meta["target"]
    if row_mode:
        method = "shap"
    needs = {"permutation": "labelled DATA (a data file with the target column '{t}')",
             "shap": "DATA (a data file with the model's columns)",
             "all": "labelled DATA (a data file with the target column '{t}')"}
    if req.data is None:
        if row_mode:
            raise ConfigError("--row/--where need DATA: give the data file the row comes from")
        if method in needs:
            raise ConfigError(f"--method {method} needs {needs[method].format(t=target)}: "
                              f"mlcli explain {req.bundle} DATA --method {method}")
    if (row_mode or method in ("shap", "all")) and needs_shap_package(pipeline):
        _import_shap(f"SHAP for model '{model_name}'")  # fail before any work is done
    data = _load_data(req.data, bundle, req.sep, req.encoding, stdin) if req.data else None

    if row_mode:
        assert data is not None
        return _explain_row(req, bundle, data, notify)

    if method is None:
        if has_native(pipeline):
            method = "native"
        elif data is None:
            raise ConfigError(f"model '{model_name}' has no native feature importances; give labelled DATA and use "
                              "--method permutation (or shap)")
        elif data.y is not None:
            method = "permutation"
            notify(f"model '{model_name}' has no native importances: using --method permutation")
        else:
            method = "shap"
            notify(f"model '{model_name}' has no native importances: using --method shap")
    if method == "permutation" and (data is None or data.y is None):
        raise DataError(f"--method permutation needs labelled data: target column '{target}' not found in "
                        f"{data.label if data else 'DATA'}; give a data file that has it")
    results: dict[str, MethodResult] = {}
    shap_vals = shap_frame = None
    todo = ["native", "permutation", "shap"] if method == "all" else [method]
    Xl = data.X[data.labelled].reset_index(drop=True) if data is not None and data.y is not None else None
    for name in todo:
        if name == "native":
            if method == "all" and not has_native(pipeline):
                notify(f"model '{model_name}' has no native importances; skipping them")
                continue
            results["native"] = native(pipeline, schema, task, model_name, req.importance_type,
                                       data.X if data is not None else None)
        elif name == "permutation":
            if Xl is None:
                notify(f"DATA has no target column '{target}': skipping permutation importance")
                continue
            results["permutation"] = permutation(pipeline, schema, Xl, data.y, task, classes, req.repeats,
                                                 req.seed, bundle.threshold)
        else:
            assert data is not None
            results["shap"], shap_vals, shap_frame = _shap_method(req, pipeline, schema, task, classes, data,
                                                                  notify)
    warnings = leak_warnings(results, schema, Xl, data.y if data is not None else None, req.seed)
    return ExplainResult(str(bundle.path), model_name, task, target, data.label if data else None,
                         len(data.frame) if data is not None else 0, method, results, warnings, shap_vals, shap_frame)


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
        prediction, probabilities, out = _json_value(float(pred[0])), None, 0
    else:
        prediction = _json_value(decode(pred, classes)[0])
        probabilities = {str(c): round(float(proba[0, j]), 6) for j, c in enumerate(classes)} \
            if proba is not None else None
        out = int(pred[0]) if task == "multiclass" else 0
    contrib = sv.values[0, out]
    order = np.argsort(-np.abs(contrib), kind="stable")
    values = {c: _json_value(X1.at[0, c]) for c in X1.columns}
    contributions = [{"name": sv.columns[j], "value": values.get(sv.columns[j]),
                      "contribution": _round(float(contrib[j]))} for j in order]
    target = schema.target
    actual = _json_value(data.frame.at[data.frame.index[i], target]) if target in data.frame.columns else None
    return RowExplanation(str(bundle.path), bundle.meta.get("model", "?"), task, target, data.label, i, values,
                          prediction, probabilities, sv.outputs[out], float(sv.base[0, out]),
                          float(sv.output[0, out]), contributions, sv.explainer, actual)
