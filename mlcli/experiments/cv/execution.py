"""The fold work: the parallel plan, a Dask cluster, time budgets, one fold's shared preprocessing, one fold
fit. :mod:`mlcli.experiments.cv.runner` decides what runs where and when."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from mlcli.data.dataset import Notify, quiet
from mlcli.data.schema import Schema
from mlcli.errors import ConfigError, MissingDependency, first_line
from mlcli.evaluation import metrics as M
from mlcli.evaluation.scoring import PREDICT_ROWS, predict_indices
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.early_stopping import stopping_of


class Progress(Protocol):
    """Told whenever a fit starts or ends (and between, in parallel runs): fits done of total, the label of
    the fit that just finished, the labels of the fits running now, the work done and expected in total
    (seconds of fitting, refined as fits finish) and the expected seconds left."""

    def __call__(self, done: int, total: int, last: str, *, running: Sequence[str] = (),
                 work: tuple[float, float] | None = None, eta: float | None = None) -> None: ...


def plan_parallel(jobs: int | None, threads: int | None, scheduler: str | None, notify: Notify = quiet
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
    if threads is None:  # MLCLI_THREADS caps the default, never raises it past the fair share
        threads = min(_env_threads() or fair, fair)
    elif jobs * threads > cores:
        notify(f"--threads {threads} x --jobs {jobs} exceeds the {cores} cores; using {fair} thread(s) per model")
        threads = fair
    return jobs, threads


def _env_threads() -> int | None:
    """MLCLI_THREADS when it is a positive whole number (the default threads per model), else None."""
    env = os.environ.get("MLCLI_THREADS", "").strip()
    return int(env) if env.isdigit() and int(env) > 0 else None


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
        raise ConfigError(f"cannot connect to the Dask scheduler at {address}: {first_line(exc)}") from None


TIMER_MAX_S = 1e8  # about three years: longer budgets (a library caller's) are timed as this long


class _Overtime(BaseException):
    """Raised by the alarm inside a fit that ran past its time budget (BaseException: libraries must not
    swallow it)."""


@contextmanager
def signals_seen(seen: list[int]) -> Iterator[None]:
    """Note SIGINT and SIGTERM in ``seen`` as they come (their handlers still run). A KeyboardInterrupt without
    one is not the user's: CatBoost turns the alarm that ends a fit at its time budget into KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def noted(signum: int, frame: Any) -> None:
        seen.append(signum)
        handler = previous[signum]
        if callable(handler):
            handler(signum, frame)
        raise KeyboardInterrupt()

    hook = sys.unraisablehook

    def quiet(unraisable: Any) -> None:
        # A signal that lands inside a C library's Python callback (XGBoost's data iterator is a ctypes
        # callback) cannot propagate from there: Python would print its traceback. It is in ``seen`` (or the
        # alarm's ``fired``) already, and the caller acts on it after the fit.
        if not isinstance(unraisable.exc_value, (KeyboardInterrupt, _Overtime)):
            hook(unraisable)

    for sig, handler in previous.items():
        if callable(handler):
            signal.signal(sig, noted)
    sys.unraisablehook = quiet
    try:
        yield
    finally:
        sys.unraisablehook = hook
        for sig, handler in previous.items():
            if callable(handler):
                signal.signal(sig, handler)


@contextmanager
def _time_limit(seconds: float | None, fired: list[bool] | None = None) -> Iterator[None]:
    """Interrupt the body after ``seconds`` where a timer signal can (the main thread of a process: the
    sequential run and local worker processes); ``fired`` is told when it did. Elsewhere (Dask worker threads)
    the budget is checked between fits only."""
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        if fired is not None:
            fired.append(True)
        raise _Overtime()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, min(max(seconds, 1e-3), TIMER_MAX_S))  # a larger value overflows
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
    rounds: int | None = None  # boosting rounds early stopping kept (None: no early stopping)

    @property
    def seconds(self) -> float:
        return self.fit_s + self.predict_s


@dataclass
class Prepared:
    """One fold's rows through a preprocessing step fitted once on its training rows (shared by every
    candidate whose pipeline starts with an equal step)."""

    train: Any = None  # fit_transform of the training rows: what the rest of each pipeline is fitted on
    test: Any = None  # transform of the held-out rows
    train_eval: Any = None  # transform of the training rows (train scores), when it differs from ``train``
    fit_s: float = 0.0
    transform_s: float = 0.0
    error: str = ""

    @property
    def nbytes(self) -> int:
        seen: set[int] = set()
        total = 0
        for part in (self.train, self.test, self.train_eval):
            if part is not None and id(part) not in seen:
                seen.add(id(part))
                total += matrix_bytes(part)
        return total


def matrix_bytes(m: Any) -> int:
    if hasattr(m, "data") and hasattr(m, "indices") and hasattr(m, "indptr"):  # scipy sparse (CSR/CSC)
        return int(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes)
    if hasattr(m, "memory_usage"):  # a DataFrame
        return int(m.memory_usage(deep=True).sum())
    return int(getattr(m, "nbytes", 0))


def prep_fold(schema: Schema, config: ModelConfig, X: pd.DataFrame, y: np.ndarray, train_idx: np.ndarray,
              test_idx: np.ndarray, want_train: bool) -> Prepared:
    """Fit ``config``'s preprocessing step (its pipeline's first step) on a fold's training rows exactly as
    the pipeline's own fit would (``fit_transform``), and transform the held-out rows (and, for train
    scores, the training rows as the fitted pipeline's predict would see them)."""
    t0 = time.perf_counter()
    try:
        step = build_pipeline(schema, config).steps[0][1]
        X_train = X.iloc[train_idx]
        train = step.fit_transform(X_train, y[train_idx])
        fit_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        test = step.transform(X.iloc[test_idx])
        transform_s = time.perf_counter() - t1
        train_eval = None
        if want_train:
            train_eval = step.transform(X_train)
            if _same(train, train_eval):
                train_eval = None
    except Exception as exc:  # noqa: BLE001 - every candidate sharing the step fails this fold with it
        return Prepared(fit_s=time.perf_counter() - t0, error=first_line(exc, with_type=True))
    return Prepared(train, test, train_eval, fit_s, transform_s)


def _same(a: Any, b: Any) -> bool:
    """Whether two preprocessed matrices are equal (NaN equal to NaN); False when unsure."""
    try:
        if hasattr(a, "nnz") and hasattr(b, "nnz"):
            return a.shape == b.shape and a.dtype == b.dtype and (a != b).nnz == 0
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    except (TypeError, ValueError):
        pass
    return False


def run_fold(ci: int, si: int, schema: Schema, config: ModelConfig, X: pd.DataFrame | None, y: np.ndarray,
             train_idx: np.ndarray, test_idx: np.ndarray, classes: list[Any], want_train: bool,
             want_pred: bool, budget: float | None, shared: Prepared | None = None, sharing: int = 1) -> FoldResult:
    """Fit one candidate's whole pipeline on one fold's training rows and score its test rows.

    With ``shared``, the pipeline's first step was fitted already (:func:`prep_fold`): only the rest of the
    pipeline is fitted, on the preprocessed rows, and a 1/``sharing`` part of the preprocessing time is
    added to this fit's fit and predict seconds.
    """
    task = schema.task
    threshold = 0.5 if task == "binary" else None
    t0 = time.perf_counter()
    fit_s = 0.0
    fired: list[bool] = []
    seen: list[int] = []
    try:
        with signals_seen(seen), _time_limit(budget, fired):
            pipeline = build_pipeline(schema, config)
            if shared is None:
                X_train, X_test = X.iloc[train_idx], X.iloc[test_idx]
                X_eval = X_train
            else:
                pipeline = pipeline[1:]
                X_train, X_test = shared.train, shared.test
                X_eval = X_train if shared.train_eval is None else shared.train_eval
            y_train = y[train_idx]
            pipeline.fit(X_train, y_train)
            fit_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            pred, proba = _predict(pipeline, X_test, task, threshold)
            predict_s = time.perf_counter() - t1
            metrics = _metrics(y[test_idx], pred, proba, task, len(classes))
            train_metrics = (_metrics(y_train, *_predict(pipeline, X_eval, task, threshold), task,
                                      len(classes)) if want_train else None)
        if seen:  # the signal landed in a library callback that swallowed it
            raise KeyboardInterrupt()
        if fired:
            raise _Overtime()
    except _Overtime:
        return FoldResult(ci, si, "timeout", fit_s=fit_s or time.perf_counter() - t0)
    except KeyboardInterrupt:
        if not fired or seen:  # Ctrl-C or SIGTERM
            raise
        return FoldResult(ci, si, "timeout", fit_s=fit_s or time.perf_counter() - t0)  # the alarm, as CatBoost says it
    except Exception as exc:  # noqa: BLE001 - reported on the candidate's row; the others go on
        return FoldResult(ci, si, "failed", fit_s=time.perf_counter() - t0, error=first_line(exc, with_type=True))
    if shared is not None:
        fit_s += shared.fit_s / sharing
        predict_s += shared.transform_s / sharing
    stopped = stopping_of(pipeline.steps[-1][1])
    return FoldResult(ci, si, "ok", metrics, train_metrics, fit_s, predict_s,
                      pred if want_pred else None, proba if want_pred else None,
                      rounds=int(stopped["iterations"]) if stopped else None)


def _predict(pipeline: Any, X: Any, task: str, threshold: float | None) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`predict_indices`, also for a preprocessed scipy sparse matrix (shared preprocessing), which has
    no len(): the same steps, a slice of ``PREDICT_ROWS`` rows at a time as for a frame."""
    if not hasattr(X, "nnz"):
        return predict_indices(pipeline, X, task, threshold)
    n = X.shape[0]

    def sliced(method: Any) -> np.ndarray:
        if n <= PREDICT_ROWS:
            return np.asarray(method(X))
        return np.concatenate([np.asarray(method(X[i:i + PREDICT_ROWS])) for i in range(0, n, PREDICT_ROWS)])

    if task == "regression":
        return sliced(pipeline.predict).astype(float), None
    proba = None
    if hasattr(pipeline, "predict_proba"):
        try:
            proba = sliced(pipeline.predict_proba).astype(float, copy=False)
        except AttributeError:
            proba = None
    if proba is None:
        return sliced(pipeline.predict).astype(int), None
    if task == "binary" and threshold is not None:
        return (proba[:, 1] >= threshold).astype(int), proba
    return proba.argmax(axis=1), proba


def _metrics(y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, task: str, k: int) -> dict[str, Any]:
    """The task's metric set (as train reports it), without train's confusion matrix and per-class table."""
    if task == "regression":
        return M.regression_metrics(y, pred)
    return M.classification_metrics(y, pred, proba, k)
