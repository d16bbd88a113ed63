"""Which fold work runs next and on how many threads: expected costs, longest first, the automatic plan.

Pure planning, no fitting: :mod:`mlcli.experiments.cv.runner` asks this module what to start.

- **Expected cost.** A small table of seconds per fold fit on a UCI Adult-sized fold (26,000 rows x 14
  columns, one thread), scaled by rows x columns, then replaced by what the run measures: a model's own mean
  once one of its folds is done, and for the others the table scaled by how far the table was off so far.
- **Order.** Sequentially, fold by fold (an interrupted run then has about as many folds of every model),
  the longest model first within a fold. In parallel, longest expected fit first over every fold (LPT): the
  long fits (CatBoost, forests, SVMs, k-NN's predictions) start at once and the short ones fill the last
  minutes, so the run does not end with one long fit on one core while the others idle.
- **Jobs chosen from the work.** Without ``--jobs``/``--threads``, local worker processes (one thread each) are
  used when there is enough work to pay for starting them (several seconds of fits, at least as many fits as
  cores) and the data fits in memory once per worker; otherwise one process with every core's threads.
- **The tail.** When fewer fits remain than free cores, each last fit gets the free cores as threads, for the
  models whose results do not depend on their thread count.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

# seconds per fold fit (fit + predict) on an Adult-sized fold with one thread; measured, rounded
SECONDS = {
    "baseline": 0.05, "nb-gaussian": 0.1, "nb-bernoulli": 0.1, "ridge": 0.1, "lasso": 0.2, "elasticnet": 0.2,
    "perceptron": 0.2, "sgd": 0.3, "logreg": 0.5, "tree": 0.5, "lightgbm": 1.0, "hgb": 1.5, "xgboost": 2.0,
    "adaboost": 2.0, "rusboost": 2.0, "extratrees": 3.0, "rf": 4.0, "balanced-rf": 4.0, "easy-ensemble": 4.0,
    "catboost": 4.0, "mlp": 8.0, "knn": 12.0, "svm": 20.0, "svm-linear": 20.0, "svm-poly": 20.0,
    "transformer": 200.0,
}
DEFAULT_SECONDS = 2.0
REFERENCE_CELLS = 32_561 * 14  # the rows x columns the table was measured on
# models whose predictions are bit for bit the same whatever their thread count (tests/experiments/cv checks
# it): the only ones the tail may give more threads. Not the forests (with n_jobs > 1 scikit-learn sums the
# trees' predictions in whatever order the threads finish: the last bits change from run to run) nor
# CatBoost (its scores moved in the 5th decimal with its thread count).
THREAD_FREE = frozenset({"xgboost", "lightgbm", "knn"})
WORKER_START_S = 10.0  # expected work (seconds) below which worker processes do not pay for their start
MEMORY_SHARE = 0.5  # share of the available memory the workers' copies of the data may take
COPIES_PER_WORKER = 4  # a worker holds the data, its fold slices, the preprocessed matrices and the model


def weight(model: str) -> float:
    return SECONDS.get(model, DEFAULT_SECONDS)


class Costs:
    """Expected seconds of each candidate's fold fit, refined by the fits that finish."""

    def __init__(self, models: Sequence[str], n_rows: int, n_cols: int):
        scale = max(n_rows * max(n_cols, 1) / REFERENCE_CELLS, 1e-3)
        self.prior = [weight(m) * scale for m in models]
        self._seen: dict[int, list[float]] = {}
        self._prior_sum = 0.0  # table seconds of the fits measured so far, and their measured seconds
        self._measured_sum = 0.0

    def observe(self, ci: int, seconds: float) -> None:
        self._seen.setdefault(ci, []).append(seconds)
        self._prior_sum += self.prior[ci]
        self._measured_sum += seconds

    def expected(self, ci: int) -> float:
        seen = self._seen.get(ci)
        if seen:
            return sum(seen) / len(seen)
        ratio = self._measured_sum / self._prior_sum if self._prior_sum > 0 else 1.0
        return self.prior[ci] * ratio

    def total(self, n_splits: int) -> float:
        return sum(self.prior) * n_splits


def order(pending: Sequence[tuple[int, int]], costs: Costs, sequential: bool) -> list[tuple[int, int]]:
    """(candidate, split) pairs in the order to start them (see the module docstring)."""
    cost = {ci: costs.expected(ci) for ci in {p[0] for p in pending}}
    if sequential:
        return sorted(pending, key=lambda p: (p[1], -cost[p[0]], p[0]))
    return sorted(pending, key=lambda p: (-cost[p[0]], p[1], p[0]))


def tail_threads(model: str, base: int, free_cores: int, remaining: int, free_slots: int) -> int:
    """Threads for a fit about to start: ``base``, or a share of the free cores when every remaining fit
    (``remaining``, this one included) starts now and leaves cores idle."""
    if model not in THREAD_FREE or remaining > free_slots or remaining < 1:
        return base
    return max(base, free_cores // remaining)


def available_memory() -> int | None:
    """Bytes of memory available now (Linux), else None."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def auto_jobs(n_fits: int, work_s: float, data_bytes: int, cores: int, memory: int | None) -> int:
    """Worker processes to use when the user chose none (1: this process, every core's threads)."""
    if cores < 2 or n_fits < cores or work_s < WORKER_START_S:
        return 1
    jobs = cores
    if memory is not None and data_bytes > 0:
        jobs = min(jobs, int(memory * MEMORY_SHARE // (data_bytes * COPIES_PER_WORKER)))
    return max(1, jobs)


def data_bytes(frame: Any) -> int:
    try:
        return int(frame.memory_usage(deep=True).sum())
    except (AttributeError, TypeError, ValueError):
        return 0


def cpu_cores() -> int:
    import joblib

    return max(1, joblib.cpu_count())


def fit_label(model_label: str, fold: int, repeat: int, repeats: bool) -> str:
    """'catboost f3' (fold 3), 'rf f2r4' (fold 2 of repeat 4)."""
    return f"{model_label} f{fold + 1}" + (f"r{repeat + 1}" if repeats else "")


def env_flag(name: str, default: bool = True) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value not in ("0", "false", "no", "off")
