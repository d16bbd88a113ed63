"""mlcli cv: a leakage-free model comparison across the same folds, with a test of the winner's margin.

Every (model, grid point) candidate is a whole pipeline from :func:`build_pipeline` (preprocessing + model),
fitted on the training rows of each fold only; all candidates see the same folds. Fold fits run through
joblib: sequentially, in local worker processes (``jobs``) or on a Dask cluster (``scheduler``).
"""

from __future__ import annotations

import itertools
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcli.errors import ConfigError, DataError, MissingDependency, did_you_mean, quote_list
from mlcli.pipeline import metrics as M
from mlcli.pipeline.build import ModelConfig, build_pipeline, default_threads
from mlcli.pipeline.data import Schema, prepare_frame
from mlcli.pipeline.predict import decode, predict_indices
from mlcli.pipeline.preprocess import PreprocessOptions
from mlcli.pipeline.train import (DataOptions, Dataset, bundle_meta, encode_classes, load_dataset, measure,
                                  native_importances)
from mlcli.registry.models import MODELS, get_spec, parse_value

Notify = Callable[[str], None]
Progress = Callable[[int, int, str], None]  # (done, total, label of the fit that just finished)

MODEL_SETS = ("fast", "all")
ALPHA = 0.05  # significance level of the corrected resampled t-test


def _quiet(_: str) -> None:
    pass


# --------------------------------------------------------------------------------------------- request

@dataclass
class CVRequest:
    data: DataOptions
    models: list[str] = field(default_factory=lambda: ["fast"])  # names, comma lists, or the sets fast/all
    params: dict[str, Any] = field(default_factory=dict)
    preprocess: PreprocessOptions = field(default_factory=PreprocessOptions)
    seed: int = 42
    folds: int = 5
    repeats: int = 1
    groups: str | None = None
    metric: str | None = None
    grid: dict[str, list[Any]] = field(default_factory=dict)
    jobs: int | None = None  # default: 1 on this machine, every worker thread on a Dask cluster
    threads: int | None = None
    scheduler: str | None = None
    timeout: float | None = None
    oof: bool = False
    train_scores: bool = False  # also score each fold's training rows (always on with a grid)
    save_best: str | None = None
    balance: list[str] | None = None  # strategies compared on the same folds: none, class-weight, smote, ...
    ratio: Any = None  # the resamplers' sampling strategy


def split_names(items: list[str] | None) -> list[str]:
    out: list[str] = []
    for item in items or []:
        out.extend(x.strip() for x in item.split(",") if x.strip())
    return out


def parse_grid(items: list[str] | None) -> dict[str, list[Any]]:
    """``["max_depth=2,4,8", "n_estimators=50,200"]`` -> {"max_depth": [2, 4, 8], "n_estimators": [50, 200]}."""
    grid: dict[str, list[Any]] = {}
    for item in items or []:
        key, sep, values = item.partition("=")
        key = key.strip()
        texts = [v.strip() for v in values.split(",")]
        if not sep or not key or not any(texts):
            raise ConfigError(f"--grid expects key=v1,v2,..., got '{item}'")
        if "" in texts:
            raise ConfigError(f"--grid {key} has an empty value in '{values}'")
        if key in grid:
            raise ConfigError(f"--grid {key} is given twice; list all its values once: {key}=v1,v2,...")
        parsed = [parse_value(t) for t in texts]
        kinds = [_kind(v) for v in parsed if v is not None]
        if len(set(kinds)) > 1:
            odd = next(t for t, v in zip(texts, parsed) if v is not None and _kind(v) != kinds[0])
            raise ConfigError(f"--grid {key} mixes {' and '.join(sorted(set(kinds)))} values ('{odd}'); "
                              "give values of one type")
        grid[key] = parsed
    return grid


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "number"
    return "text" if isinstance(value, str) else type(value).__name__


# --------------------------------------------------------------------------------------------- models

def check_model_names(names: list[str]) -> None:
    """Fail on an unknown model before any data is read."""
    for name in names:
        if name.lower() in MODEL_SETS:
            continue
        try:
            get_spec(name)
        except ConfigError as exc:
            raise ConfigError(f"{exc}; or a set: {', '.join(MODEL_SETS)}") from None


def expand_models(names: list[str], task: str, notify: Notify = _quiet) -> list[str]:
    """Registry names for ``names``: sets expanded to the installed models that do ``task``; no repeats.

    Sets leave out models that fine-tune on text (``text_only``: far slower in every fold); name one to
    include it.
    """
    return [m for m, _ in _expand(names, task, notify)]


def _expand(names: list[str], task: str, notify: Notify = _quiet) -> list[tuple[str, bool]]:
    """(model, came from a set) pairs."""
    out: dict[str, bool] = {}
    kind = "regression" if task == "regression" else "classification"
    for name in names:
        if name.lower() in MODEL_SETS:
            members = [s for s in MODELS.values() if s.path_for(task) and not s.text_only
                       and (s.fast or name.lower() == "all")]
            missing = [s.name for s in members if not s.installed()]
            if missing:
                notify(f"--models {name.lower()}: skipping {', '.join(missing)} (not installed)")
            for s in members:
                if s.installed():
                    out.setdefault(s.name, True)
            continue
        spec = get_spec(name)
        if not spec.path_for(task):
            able = [n for n, s in MODELS.items() if s.path_for(task)]
            raise ConfigError(f"model '{spec.name}' does not do {kind}; models that do: {quote_list(able, 40)}")
        out[spec.name] = False
    return list(out.items())


@dataclass(frozen=True)
class Candidate:
    """One leaderboard row: a model with one point of the grid."""

    model: str
    point: tuple[tuple[str, Any], ...] = ()
    balance: str | None = None  # the --balance strategy, as the user named it

    @property
    def label(self) -> str:
        extra = [f"balance={self.balance}"] if self.balance is not None else []
        return " ".join([self.model] + [f"{k}={v}" for k, v in self.point] + extra)

    def config(self, req: CVRequest, threads: int | None) -> ModelConfig:
        return ModelConfig(self.model, {**req.params, **dict(self.point)}, req.preprocess, req.seed, threads,
                           balance=self.balance, ratio=req.ratio)


def make_candidates(models: list[str], grid: dict[str, list[Any]], balances: list[str] | None = None
                    ) -> list[Candidate]:
    points = [tuple(zip(grid, values)) for values in itertools.product(*grid.values())] if grid else [()]
    return [Candidate(m, p, b) for m in models for p in points for b in (balances or [None])]


def check_balances(names: list[str] | None) -> list[str] | None:
    """Validate --balance strategies before any data is read (unknown ones are listed)."""
    if not names:
        return None
    from mlcli.registry.resamplers import STRATEGIES, get_resampler

    for name in names:
        if name.strip().lower() not in STRATEGIES:
            get_resampler(name)
    return names


# --------------------------------------------------------------------------------------------- metric

def metric_names(task: str) -> list[str]:
    """The metrics the task reports (the same set as train), asked of the metrics module itself."""
    if task == "regression":
        return list(M.regression_metrics(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 1.5])))
    k = 2 if task == "binary" else 3
    y = np.arange(k).repeat(2)
    proba = np.full((len(y), k), 1.0 / k)
    return list(M.classification_metrics(y, y, proba, k))


_METRIC_ALIASES = {"auc": "roc_auc", "rocauc": "roc_auc", "f1macro": "f1_macro", "acc": "accuracy",
                   "r²": "r2", "logloss": "log_loss", "average_precision": "pr_auc"}


def resolve_metric(metric: str | None, task: str) -> str:
    names = metric_names(task)
    if metric is None:
        return M.MAIN_METRIC[task]
    key = metric.strip().lower().replace("-", "_")
    key = _METRIC_ALIASES.get(key.replace("_", ""), _METRIC_ALIASES.get(key, key))
    if key == "f1" and task == "multiclass":
        key = "f1_macro"
    if key not in names:
        raise ConfigError(f"--metric '{metric}' is not reported for {task} tasks{did_you_mean(key, names)}; "
                          f"choose one of: {', '.join(names)}")
    return key


def higher_is_better(metric: str) -> bool:
    return metric not in M.LOWER_IS_BETTER


# --------------------------------------------------------------------------------------------- folds

@dataclass
class Split:
    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def make_splits(y: np.ndarray, task: str, classes: list[Any], folds: int, repeats: int, seed: int,
                groups: np.ndarray | None = None, group_column: str | None = None) -> list[Split]:
    """The folds every candidate shares. Repeat r shuffles with seed + r, so sklearn reproduces them."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}")
    if repeats < 1:
        raise ConfigError(f"--repeats must be at least 1, got {repeats}")
    classify = task != "regression"
    if groups is not None:
        n_groups = len(pd.unique(groups))
        if folds > n_groups:
            raise DataError(f"--folds {folds} is more than the {n_groups} distinct values of the --groups column "
                            f"'{group_column}'; use --folds {n_groups} or fewer")
    elif classify:
        counts = np.bincount(y, minlength=len(classes))
        smallest = int(np.argmin(counts))
        if folds > counts[smallest]:
            hint = (f"use --folds {counts[smallest]} or fewer" if counts[smallest] >= 2 else
                    "remove or merge that class")
            raise DataError(f"--folds {folds} is more than the {counts[smallest]} row(s) of the smallest class "
                            f"('{classes[smallest]}'); {hint}")
    elif folds > len(y):
        raise DataError(f"--folds {folds} is more than the {len(y)} rows; use --folds {len(y)} or fewer")
    out: list[Split] = []
    for r in range(repeats):
        rs = seed + r
        if groups is not None:
            splitter = (StratifiedGroupKFold(folds, shuffle=True, random_state=rs) if classify
                        else GroupKFold(folds, shuffle=True, random_state=rs))
            pieces = splitter.split(np.zeros(len(y)), y, groups)
        else:
            splitter = (StratifiedKFold(folds, shuffle=True, random_state=rs) if classify
                        else KFold(folds, shuffle=True, random_state=rs))
            pieces = splitter.split(np.zeros(len(y)), y)
        for f, (tr, te) in enumerate(pieces):
            out.append(Split(r, f, tr, te))
    return out


def group_values(ds: Dataset, column: str, notify: Notify = _quiet) -> tuple[Dataset, np.ndarray]:
    """The --groups column's values; the column itself is taken out of the features."""
    frame = ds.frame
    if column not in frame.columns:
        raise DataError(f"--groups column '{column}' not found{did_you_mean(column, frame.columns)}; "
                        f"columns are: {quote_list(frame.columns, 20)}")
    if column == ds.schema.target:
        raise DataError(f"--groups column '{column}' is the target; give the column that identifies related rows")
    values = frame[column]
    if values.isna().any():
        raise DataError(f"--groups column '{column}' has {int(values.isna().sum())} missing value(s); "
                        "fill them or drop those rows")
    infos = [replace(c, role="dropped", reason="the --groups column") if c.name == column else c
             for c in ds.schema.columns]
    schema = Schema(ds.schema.target, ds.schema.task, infos)
    if not schema.used:
        raise DataError(f"no feature columns left once the --groups column '{column}' is set aside")
    if any(c.name == column for c in ds.schema.used):
        notify(f"--groups column '{column}' is used to form folds and is not a feature")
    ds = replace(ds, schema=schema, X=prepare_frame(frame, schema))
    return ds, values.astype(str).to_numpy()


# --------------------------------------------------------------------------------------------- parallel plan

def plan_parallel(jobs: int | None, threads: int | None, scheduler: str | None, notify: Notify = _quiet
                  ) -> tuple[int, int]:
    """(concurrent fold fits, threads per model) so that jobs x threads never exceeds the cores."""
    import joblib

    if jobs is None:
        jobs = -1 if scheduler else 1
    if jobs == 0 or jobs < -1:
        raise ConfigError(f"--jobs must be at least 1 (or -1 for every core), got {jobs}")
    if threads is not None and threads < 1:
        raise ConfigError(f"--threads must be at least 1, got {threads}")
    if scheduler:  # the cluster's workers decide concurrency; one thread per fit unless told
        return jobs, threads or 1
    cores = max(1, joblib.cpu_count())
    if jobs == -1:
        jobs = cores
    if jobs > cores:
        notify(f"--jobs {jobs} is more than the {cores} cores; running {cores} at a time")
        jobs = cores
    fair = max(1, cores // jobs)
    if threads is None:
        threads = fair
    elif jobs * threads > cores:
        notify(f"--threads {threads} x --jobs {jobs} exceeds the {cores} cores; using {fair} thread(s) per model")
        threads = fair
    return jobs, threads


def _split_address(address: str) -> tuple[str, str, int | None]:
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--scheduler '{address}' is not a scheduler address like tcp://host:8786")
    return scheme, host.strip("[]"), int(port)


def connect_scheduler(address: str, wait: float = 3.0) -> Any:
    """A distributed.Client on ``address``, or one line saying why not, within a few seconds."""
    import socket

    scheme, host, port = _split_address(address)
    if scheme in ("tcp", "tls"):
        try:
            socket.create_connection((host, port), timeout=wait).close()
        except OSError as exc:
            why = exc.strerror or str(exc) or type(exc).__name__
            raise ConfigError(f"cannot reach the Dask scheduler at {address} ({why.lower()}); start one with "
                              "'dask scheduler' and workers with 'dask worker ADDRESS', or check the address") from None
    try:
        from distributed import Client
    except ImportError as exc:
        raise MissingDependency("distributed", "--scheduler", "distributed") from exc
    try:
        return Client(address, timeout=f"{max(wait, 5.0)}s", set_as_default=False)
    except (OSError, ValueError, TimeoutError) as exc:
        raise ConfigError(f"cannot connect to the Dask scheduler at {address}: {str(exc).splitlines()[0]}") from None


# --------------------------------------------------------------------------------------------- one fold fit

class _Overtime(BaseException):
    """Raised by the alarm inside a fit that ran past its time budget (BaseException: libraries must not
    swallow it)."""


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the body after ``seconds`` where a timer signal can (the main thread of a process: the
    sequential run and local worker processes). Elsewhere (Dask worker threads) the budget is checked
    between fits only."""
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise _Overtime()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class FoldResult:
    candidate: int
    split: int
    status: str  # ok | timeout | failed | skipped
    metrics: dict[str, Any] | None = None
    train_metrics: dict[str, Any] | None = None
    fit_s: float = 0.0
    predict_s: float = 0.0
    pred: np.ndarray | None = None
    proba: np.ndarray | None = None
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.fit_s + self.predict_s


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def run_fold(ci: int, si: int, schema: Schema, config: ModelConfig, X: pd.DataFrame, y: np.ndarray,
             train_idx: np.ndarray, test_idx: np.ndarray, classes: list[Any], want_train: bool,
             want_pred: bool, budget: float | None) -> FoldResult:
    """Fit one candidate's whole pipeline on one fold's training rows and score its test rows."""
    task = schema.task
    threshold = 0.5 if task == "binary" else None
    t0 = time.perf_counter()
    fit_s = 0.0
    try:
        with _time_limit(budget):
            pipeline = build_pipeline(schema, config)
            X_train, y_train = X.iloc[train_idx], y[train_idx]
            pipeline.fit(X_train, y_train)
            fit_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            pred, proba = predict_indices(pipeline, X.iloc[test_idx], task, threshold)
            predict_s = time.perf_counter() - t1
            metrics = _metrics(y[test_idx], pred, proba, task, len(classes))
            train_metrics = (_metrics(y_train, *predict_indices(pipeline, X_train, task, threshold), task,
                                      len(classes)) if want_train else None)
    except _Overtime:
        return FoldResult(ci, si, "timeout", fit_s=fit_s or time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - reported on the candidate's row; the others go on
        return FoldResult(ci, si, "failed", fit_s=time.perf_counter() - t0, error=_first_line(exc))
    return FoldResult(ci, si, "ok", metrics, train_metrics, fit_s, predict_s,
                      pred if want_pred else None, proba if want_pred else None)


def _metrics(y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, task: str, k: int) -> dict[str, Any]:
    """The task's metric set (as train reports it), without train's confusion matrix and per-class table."""
    if task == "regression":
        return M.regression_metrics(y, pred)
    return M.classification_metrics(y, pred, proba, k)


def _skipped(ci: int, si: int) -> FoldResult:
    return FoldResult(ci, si, "skipped")


# --------------------------------------------------------------------------------------------- the test

def corrected_ttest(a: list[float], b: list[float], test_train_ratio: float) -> tuple[float, float] | None:
    """Nadeau & Bengio's corrected resampled t-test of paired fold scores: (t, two-sided p), None if < 2 pairs.

    The variance of the mean difference is inflated from 1/J to (1/J + n_test/n_train) because training
    sets of different folds overlap, which the plain paired t-test ignores (it is far too eager).
    """
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(d)
    if n < 2:
        return None
    mean = float(d.mean())
    var = float(d.var(ddof=1))
    if var <= 1e-24:
        return (0.0, 1.0) if abs(mean) <= 1e-12 else (math.copysign(math.inf, mean), 0.0)
    t = mean / math.sqrt((1.0 / n + test_train_ratio) * var)
    return t, float(2.0 * stats.t.sf(abs(t), n - 1))


# --------------------------------------------------------------------------------------------- result

@dataclass
class Row:
    candidate: Candidate
    status: str  # ok | timeout | failed | interrupted
    folds_done: int
    scores: list[float | None]  # the sort metric per split (None where the split did not finish)
    mean: dict[str, float | None]
    std: dict[str, float | None]
    train_mean: dict[str, float | None] | None
    train_std: dict[str, float | None] | None
    fit_s: float | None
    predict_s: float | None
    seconds: float
    error: str = ""
    rank: int | None = None
    best: bool = False
    vs_best: dict[str, Any] | None = None

    def score(self, metric: str) -> float | None:
        return self.mean.get(metric)

    def to_dict(self, metric: str) -> dict[str, Any]:
        d: dict[str, Any] = {
            "rank": self.rank, "name": self.candidate.label, "model": self.candidate.model,
            "balance": self.candidate.balance,
            "params": dict(self.candidate.point), "best": self.best, "status": self.status,
            "folds": self.folds_done, "metric": metric, "score": self.mean.get(metric),
            "score_std": self.std.get(metric), "mean": self.mean, "std": self.std,
        }
        if self.train_mean is not None:
            d["train_mean"] = self.train_mean
            d["train_std"] = self.train_std
        d.update(fit_s=self.fit_s, predict_s=self.predict_s, seconds=round(self.seconds, 3),
                 vs_best=self.vs_best, fold_scores=self.scores)
        if self.error:
            d["error"] = self.error
        return d


@dataclass
class CVResult:
    source: str
    schema: Schema
    n_rows: int
    dropped_rows: int
    metric: str
    folds: int
    repeats: int
    groups: str | None
    seed: int
    jobs: int
    threads: int
    scheduler: str | None
    splits: int
    rows: list[Row]
    grid: dict[str, list[Any]]
    n_fits: int
    n_done: int
    interrupted: bool
    seconds: float
    oof: pd.DataFrame | None = None
    saved: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def best(self) -> Row | None:
        return next((r for r in self.rows if r.best), None)

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "command": "cv", "data": self.source, "task": self.schema.task, "target": self.schema.target,
            "rows": self.n_rows, "dropped_missing_target": self.dropped_rows,
            "metric": self.metric, "higher_is_better": higher_is_better(self.metric),
            "folds": self.folds, "repeats": self.repeats, "splits": self.splits, "groups": self.groups,
            "stratified": self.schema.task != "regression", "seed": self.seed,
            "test": {"name": "corrected resampled t-test (Nadeau & Bengio 2003)", "alpha": ALPHA},
            "best": best.candidate.label if best else None,
            "leaderboard": [r.to_dict(self.metric) for r in self.rows],
            "grid": self.grid or None,
            "parallel": {"jobs": self.jobs, "threads_per_model": self.threads, "scheduler": self.scheduler},
            "fits": {"total": self.n_fits, "done": self.n_done},
            "interrupted": self.interrupted, "saved": self.saved, "seconds": round(self.seconds, 3),
            "columns": [c.to_dict() for c in self.schema.columns],
        }


def _summary(values: list[dict[str, Any]], names: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    mean: dict[str, Any] = {}
    std: dict[str, Any] = {}
    for name in names:
        xs = [v[name] for v in values if v.get(name) is not None]
        mean[name] = round(float(np.mean(xs)), 6) if xs else None
        std[name] = round(float(np.std(xs, ddof=1)), 6) if len(xs) > 1 else (0.0 if xs else None)
    return mean, std


def build_rows(candidates: list[Candidate], results: dict[tuple[int, int], FoldResult], n_splits: int,
               names: list[str], metric: str, ratio: float, interrupted: bool) -> list[Row]:
    rows: list[Row] = []
    for ci, cand in enumerate(candidates):
        done = [results.get((ci, si)) for si in range(n_splits)]
        ok = [r for r in done if r is not None and r.status == "ok"]
        bad = next((r for r in done if r is not None and r.status in ("timeout", "failed")), None)
        seconds = sum(r.seconds for r in done if r is not None)
        if bad is not None:
            status = "timeout" if bad.status == "timeout" else "failed"
        elif len(ok) < n_splits:
            status = "interrupted" if interrupted else "failed"
        else:
            status = "ok"
        usable = status in ("ok", "interrupted") and ok
        mean, std = _summary([r.metrics for r in ok], names) if usable else ({n: None for n in names},) * 2
        train = [r.train_metrics for r in ok if r.train_metrics is not None]
        train_mean, train_std = _summary(train, names) if (usable and train) else (None, None)
        scores = [(r.metrics or {}).get(metric) if r is not None and r.status == "ok" else None for r in done]
        rows.append(Row(cand, status, len(ok), scores if usable else [None] * n_splits, mean, std,
                        train_mean, train_std,
                        round(float(np.mean([r.fit_s for r in ok])), 4) if ok else None,
                        round(float(np.mean([r.predict_s for r in ok])), 4) if ok else None,
                        seconds, bad.error if bad is not None else ""))
    sign = 1.0 if higher_is_better(metric) else -1.0

    def key(row: Row) -> tuple:
        s = row.score(metric)
        return (row.status not in ("ok", "interrupted"), s is None, -sign * s if s is not None else 0.0)

    rows.sort(key=key)  # stable: ties keep the order the models were given in
    ranked = [r for r in rows if r.status in ("ok", "interrupted") and r.score(metric) is not None]
    for i, r in enumerate(ranked, 1):
        r.rank = i
    if ranked:
        best = ranked[0]
        best.best = True
        for r in ranked[1:]:
            pairs = [(a, b) for a, b in zip(r.scores, best.scores) if a is not None and b is not None]
            test = corrected_ttest([a for a, _ in pairs], [b for _, b in pairs], ratio)
            diff = round(float(np.mean([a - b for a, b in pairs])), 6) if pairs else None
            if test is None:
                r.vs_best = {"diff": diff, "t": None, "p": None, "within_noise": None, "pairs": len(pairs)}
            else:
                t, p = test
                r.vs_best = {"diff": diff, "t": round(t, 4) if math.isfinite(t) else None, "p": round(p, 6),
                             "within_noise": bool(p >= ALPHA), "pairs": len(pairs)}
    return rows


# --------------------------------------------------------------------------------------------- the run

def _check_out_paths(req: CVRequest) -> None:
    from mlcli.pipeline.bundle import is_bundle

    if req.save_best:
        p = Path(req.save_best)
        if p.exists() and not p.is_dir():
            raise ConfigError(f"--save-best {p} exists and is a file; give a directory path")
        if p.is_dir() and any(p.iterdir()) and not is_bundle(p):
            raise ConfigError(f"--save-best {p} is a non-empty directory that is not an mlcli bundle; "
                              "refusing to overwrite it: give another path")
    if req.timeout is not None and not req.timeout > 0:
        raise ConfigError(f"--timeout must be a positive number of seconds, got {req.timeout}")


def run_cv(req: CVRequest, notify: Notify = _quiet, progress: Progress | None = None,
           stdin: Any = None) -> CVResult:
    """Cross-validate every candidate on the same folds; Ctrl-C returns the partial result (interrupted)."""
    t0 = time.perf_counter()
    names = split_names(req.models) or ["fast"]
    check_model_names(names)  # an unknown model fails before the data is read: nothing runs
    check_balances(req.balance)
    for key in req.grid:
        if key in req.params:
            raise ConfigError(f"'{key}' is given both with --param and --grid; give it once")
    _check_out_paths(req)
    jobs, threads = plan_parallel(req.jobs, req.threads, req.scheduler, notify)
    client = connect_scheduler(req.scheduler) if req.scheduler else None  # unreachable: fail before reading
    try:
        result = _run(req, jobs, threads, client, notify, progress, stdin)
    finally:
        if client is not None:
            client.close()
    result.seconds = time.perf_counter() - t0
    return result


def _run(req: CVRequest, jobs: int, threads: int, client: Any, notify: Notify,
         progress: Progress | None, stdin: Any) -> CVResult:
    ds = load_dataset(req.data, notify, stdin)
    groups = None
    if req.groups:
        ds, groups = group_values(ds, req.groups, notify)
    task = ds.task
    y, classes = encode_classes(ds)
    metric = resolve_metric(req.metric, task)
    splits = make_splits(y, task, classes, req.folds, req.repeats, req.seed, groups, req.groups)
    models: list[str] = []
    for model, from_set in _expand(split_names(req.models) or ["fast"], task, notify):
        try:  # every parameter and grid value is checked before anything is fitted
            for point in make_candidates([model], req.grid, req.balance):
                build_pipeline(ds.schema, point.config(req, threads))
        except ConfigError as exc:
            if from_set and not req.params and not req.grid:  # e.g. a model this data cannot feed
                notify(f"skipping {model}: {exc}")
                continue
            if any(f"'{key}'" in str(exc) for key in req.grid):
                raise ConfigError(f"{exc} (--grid values apply to every model in --models)") from None
            raise
        models.append(model)
    if not models:
        raise ConfigError(f"no installed model can do this {task} task; list them with: mlcli models")
    candidates = make_candidates(models, req.grid, req.balance)
    configs = [c.config(req, threads) for c in candidates]
    want_train = req.train_scores or bool(req.grid)

    results, interrupted = _execute(candidates, configs, splits, ds, y, classes, jobs, req.timeout, want_train,
                                    req.oof, client, progress)

    ratio = float(np.mean([len(s.test) / len(s.train) for s in splits]))
    rows = build_rows(candidates, results, len(splits), metric_names(task), metric, ratio, interrupted)
    warnings = [f"{r.candidate.label}: {r.error}" for r in rows if r.status == "failed" and r.error]
    warnings += [f"{r.candidate.label}: timed out after {r.seconds:.1f} s ({r.folds_done} of {len(splits)} "
                 "folds done)" for r in rows if r.status == "timeout"]
    n_done = sum(1 for r in results.values() if r.status != "skipped")
    if not interrupted and all(r.status == "failed" for r in rows):
        first = rows[0]
        raise ConfigError(f"every model failed; {first.candidate.label}: {first.error}")
    result = CVResult(ds.source, ds.schema, len(ds.frame), ds.dropped_rows, metric, req.folds, req.repeats,
                      req.groups, req.seed, jobs, threads, req.scheduler, len(splits), rows, req.grid,
                      len(candidates) * len(splits), n_done, interrupted, 0.0, warnings=warnings)
    if req.oof:
        result.oof = oof_frame(candidates, results, splits, y, classes, task)
    if req.save_best and not interrupted:
        best = result.best
        if best is None:
            raise ConfigError("no model finished its folds, so there is no best model to save with --save-best")
        try:
            result.saved = save_best(req, ds, y, classes, best, result, notify)
        except KeyboardInterrupt:  # the bundle write is atomic: nothing half-written is left
            result.interrupted = True
    return result


def _execute(candidates: list[Candidate], configs: list[ModelConfig], splits: list[Split], ds: Dataset,
             y: np.ndarray, classes: list[Any], jobs: int, timeout: float | None, want_train: bool,
             want_pred: bool, client: Any, progress: Progress | None
             ) -> tuple[dict[tuple[int, int], FoldResult], bool]:
    from joblib import Parallel, delayed, parallel_config

    total = len(candidates) * len(splits)
    used = [0.0] * len(candidates)
    stopped: set[int] = set()  # candidates timed out or failed: their remaining folds are skipped
    results: dict[tuple[int, int], FoldResult] = {}
    X, schema = ds.X, ds.schema

    def tasks():  # fold-major: an interrupted run has about as many folds of every model
        for si, split in enumerate(splits):
            for ci, config in enumerate(configs):
                if ci in stopped:
                    yield delayed(_skipped)(ci, si)
                    continue
                budget = None if timeout is None else max(timeout - used[ci], 1e-3)
                yield delayed(run_fold)(ci, si, schema, config, X, y, split.train, split.test, classes,
                                        want_train, want_pred, budget)

    if progress:
        progress(0, total, "")
    backend = {"backend": "dask", "client": client} if client is not None else {}
    interrupted = False
    with parallel_config(n_jobs=jobs, **backend):
        outputs = Parallel(return_as="generator_unordered", pre_dispatch="2*n_jobs")(tasks())
        try:
            for res in outputs:
                results[(res.candidate, res.split)] = res
                used[res.candidate] += res.seconds
                if res.status in ("timeout", "failed") or (timeout is not None and used[res.candidate] > timeout
                                                           and res.status == "ok"):
                    if res.status == "ok":  # finished, but the model is now over its budget
                        res.status = "timeout"
                    stopped.add(res.candidate)
                if progress:
                    split = splits[res.split]
                    progress(len(results), total, f"{candidates[res.candidate].label} · fold {split.fold + 1}"
                             + (f" of repeat {split.repeat + 1}" if splits[-1].repeat else ""))
        except KeyboardInterrupt:
            interrupted = True
            outputs.close()
    return results, interrupted


def oof_frame(candidates: list[Candidate], results: dict[tuple[int, int], FoldResult], splits: list[Split],
              y: np.ndarray, classes: list[Any], task: str) -> pd.DataFrame:
    """Out-of-fold predictions, one row per (data row, repeat, candidate); 'row' counts data rows from 0."""
    parts = []
    for ci, cand in enumerate(candidates):
        for si, split in enumerate(splits):
            res = results.get((ci, si))
            if res is None or res.status != "ok" or res.pred is None:
                continue
            part = {"row": split.test, "repeat": split.repeat + 1, "fold": split.fold + 1, "model": cand.label}
            if task == "regression":
                part.update(y_true=y[split.test], y_pred=res.pred)
            else:
                part.update(y_true=decode(y[split.test], classes), y_pred=decode(res.pred, classes))
                if res.proba is not None:
                    for k, c in enumerate(classes):
                        part[f"proba_{c}"] = np.round(res.proba[:, k], 6)
            parts.append(pd.DataFrame(part))
    if not parts:
        return pd.DataFrame(columns=["row", "repeat", "fold", "model", "y_true", "y_pred"])
    frame = pd.concat(parts, ignore_index=True)
    order = {c.label: i for i, c in enumerate(candidates)}
    frame["_m"] = frame["model"].map(order)
    return frame.sort_values(["_m", "repeat", "row"], kind="stable").drop(columns="_m").reset_index(drop=True)


def save_best(req: CVRequest, ds: Dataset, y: np.ndarray, classes: list[Any], best: Row, result: CVResult,
              notify: Notify) -> str:
    """Refit the winner on every row and save a bundle that predict/evaluate/explain accept."""
    from mlcli.pipeline.bundle import save_bundle

    config = best.candidate.config(req, req.threads or default_threads())
    notify(f"refitting {best.candidate.label} on all {len(y)} rows for --save-best")
    pipeline = build_pipeline(ds.schema, config)
    pipeline.fit(ds.X, y)
    threshold = 0.5 if ds.task == "binary" else None
    train_report = measure(pipeline, ds.X, y, ds.task, classes, threshold)
    meta = bundle_meta(ds, config, classes, threshold, best.mean, train_report.metrics,
                       native_importances(pipeline), len(y), 0)
    meta["cv"] = {"metric": result.metric, "folds": result.folds, "repeats": result.repeats,
                  "groups": result.groups, "score": best.score(result.metric),
                  "score_std": best.std.get(result.metric), "metrics_std": best.std,
                  "leaderboard": [r.candidate.label for r in result.rows if r.rank is not None]}
    return str(save_bundle(req.save_best, pipeline, meta))
