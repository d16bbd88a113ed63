"""Running the fold fits: the parallel plan, a Dask cluster, time budgets, one fold fit."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Dataset, Notify, quiet
from mlcli.data.schema import Schema
from mlcli.errors import ConfigError, MissingDependency, first_line
from mlcli.evaluation import metrics as M
from mlcli.evaluation.scoring import predict_indices
from mlcli.experiments.cv.folds import Split
from mlcli.experiments.cv.request import Candidate
from mlcli.models.build import ModelConfig, build_pipeline

Progress = Callable[[int, int, str], None]  # (done, total, label of the fit that just finished)


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
        return FoldResult(ci, si, "failed", fit_s=time.perf_counter() - t0, error=first_line(exc, with_type=True))
    return FoldResult(ci, si, "ok", metrics, train_metrics, fit_s, predict_s,
                      pred if want_pred else None, proba if want_pred else None)


def _metrics(y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, task: str, k: int) -> dict[str, Any]:
    """The task's metric set (as train reports it), without train's confusion matrix and per-class table."""
    if task == "regression":
        return M.regression_metrics(y, pred)
    return M.classification_metrics(y, pred, proba, k)


def _skipped(ci: int, si: int) -> FoldResult:
    return FoldResult(ci, si, "skipped")


def execute(candidates: list[Candidate], configs: list[ModelConfig], splits: list[Split], ds: Dataset,
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
