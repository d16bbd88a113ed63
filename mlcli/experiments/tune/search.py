"""The search: Optuna's TPE over a model's space, each trial cross-validated on cv's folds and pruned early.

Every trial fits the model's whole pipeline inside each fold's training rows (``execution.run_fold``, as cv
does); the preprocessing step does not depend on the searched parameters (they are the model's), so it is
fitted once per fold on that fold's training rows and shared by every trial (``execution.prep_fold``, the
same numbers as refitting it: cv's tests check it). After each fold the trial reports its running mean to a
median pruner, which stops a trial whose running mean is worse than the median of earlier trials at the same
fold. Trial 0 is the model as ``cv`` fits it (its defaults plus the user's --param values), so the best trial
is never worse than the defaults. With a time limit no trial starts once it is spent, and the fold in progress
stops at it (``run_fold``'s budget).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcli.experiments.cv import execution as ex
from mlcli.experiments.cv.folds import Split
from mlcli.models.build import ModelConfig
from mlcli.models.space import suggest

if TYPE_CHECKING:
    from mlcli.experiments.tune.remote import RemoteFolds
    from mlcli.experiments.tune.store import StudyLink

PRUNE_AFTER = 5  # trials (the defaults' one included) that are never pruned: the pruner's reference
DEFAULT_FLAG = "mlcli_default"

# told after each fold: trial number, trials at most (None: until the time limit), folds done of all, best so far
TrialProgress = Callable[[int, "int | None", int, int, "float | None"], None]


@dataclass
class TrialRow:
    """One trial as the report shows it."""

    number: int
    params: dict[str, Any]  # what was fitted on top of the defaults ({} for the defaults' trial)
    default: bool = False
    state: str = "running"  # complete | pruned | failed | timeout | interrupted
    scores: list[float] = field(default_factory=list)  # the sort metric per fold done
    metrics: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    @property
    def mean(self) -> float | None:
        return round(float(np.mean(self.scores)), 6) if self.scores else None

    @property
    def std(self) -> float | None:
        return round(float(np.std(self.scores, ddof=1)), 6) if len(self.scores) > 1 else None

    def to_attr(self) -> dict[str, Any]:
        """The row as a kept trial carries it (JSON)."""
        return {"params": self.params, "default": self.default, "state": self.state, "scores": self.scores,
                "metrics": self.metrics, "rounds": self.rounds, "seconds": self.seconds, "error": self.error}

    @classmethod
    def from_trial(cls, trial: Any) -> TrialRow:
        """The row of a kept trial (:meth:`to_attr`)."""
        from mlcli.experiments.tune.store import ROW_ATTR

        attr = dict(trial.user_attrs.get(ROW_ATTR) or {})
        attr.setdefault("state", "complete" if trial.state.name == "COMPLETE" else "failed")
        return cls(trial.number, **attr)


@dataclass
class Folds:
    """What every trial is scored on: cv's folds of the loaded data."""

    schema: Any
    X: Any
    y: np.ndarray
    classes: list[Any]
    splits: list[Split]
    metric: str
    higher: bool
    share: bool = True  # preprocess each fold once for every trial


class _Failed(Exception):
    """A trial whose fit failed (reported on its row; the search goes on)."""


class Search:
    """One study: the trials run so far (:attr:`rows`), whatever stopped it."""

    def __init__(self, folds: Folds, config: ModelConfig, space: dict[str, tuple], default_point: dict[str, Any],
                 deadline: float | None, progress: TrialProgress | None = None, want_pred: bool = False,
                 remote: RemoteFolds | None = None):
        self.f, self.config, self.space, self.default_point = folds, config, space, default_point
        self.deadline, self.progress, self.want_pred = deadline, progress, want_pred
        self.remote = remote  # the folds run on a Dask cluster (--scheduler)
        # with ``want_pred``: trial number -> split -> its fold result with the predictions (complete trials)
        self.outputs: dict[int, dict[int, ex.FoldResult]] = {}
        self.rows: list[TrialRow] = []
        self.prepared: dict[int, ex.Prepared | None] = {}
        self.held = 0
        self.total: int | None = None
        self.interrupted = False
        self.timed_out = False
        self.kept: set[int] = set()  # trials handed to the kept study

    def run(self, n_trials: int | None, seed: int, startup: int = PRUNE_AFTER, link: StudyLink | None = None
            ) -> list[TrialRow]:
        """Run ``n_trials`` trials (None: until the deadline). With ``link``, the trials are kept in its study;
        a link with stored trials continues them: they are the first rows, the defaults' trial is not run
        again, and the sampler's seed moves on by their count (new points, not the first run's again)."""
        import optuna

        prior = link.prior if link is not None else []
        sampler = optuna.samplers.TPESampler(seed=(seed + len(prior)) % 2**32,
                                             n_startup_trials=_random_trials(n_trials))
        pruner = optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=0)
        self.total = None if n_trials is None else n_trials + len(prior)
        direction = "maximize" if self.f.higher else "minimize"
        level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # trials are reported by mlcli, on its own terms
        study = optuna.create_study(direction=direction, sampler=sampler, pruner=pruner)
        callbacks = [self._stop_when_out_of_time]
        if link is not None:
            link.start(direction)
            callbacks.append(lambda _, trial: self._keep(link, trial))
        try:
            if prior:
                study.add_trials(prior)
                self.rows = [TrialRow.from_trial(t) for t in prior]
            else:
                study.enqueue_trial(self.default_point, user_attrs={DEFAULT_FLAG: True})
            timeout = None if self.deadline is None else max(self.deadline - time.perf_counter(), 0.0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=optuna.exceptions.ExperimentalWarning)
                study.optimize(self.objective, n_trials=n_trials, timeout=timeout, catch=(_Failed,),
                               callbacks=callbacks)
        except KeyboardInterrupt:  # Ctrl-C / SIGTERM: the trials so far are the result
            self.interrupted = True
            if self.rows and self.rows[-1].state == "running":
                self.rows[-1].state = "interrupted"
        finally:
            if link is not None:
                self._keep_last(study, link)
            optuna.logging.set_verbosity(level)
        return self.rows

    def _keep(self, link: StudyLink, trial: Any) -> None:
        from mlcli.experiments.tune.store import frozen

        row = next((r for r in reversed(self.rows) if r.number == trial.number), None)
        if row is not None and trial.number not in self.kept:
            self.kept.add(trial.number)
            link.keep(frozen(trial, row.to_attr()))

    def _keep_last(self, study: Any, link: StudyLink) -> None:
        """The trials no callback saw (the one Ctrl-C stopped) to the study, then wait for the writes."""
        for trial in study.get_trials(deepcopy=False)[len(link.prior):]:
            self._keep(link, trial)
        try:
            link.close()
        except KeyboardInterrupt:  # Ctrl-C while the last trials are written: the trials so far are the result
            self.interrupted = True

    def _stop_when_out_of_time(self, study: Any, trial: Any) -> None:
        if self.timed_out or (self.deadline is not None and time.perf_counter() >= self.deadline):
            study.stop()

    def objective(self, trial: Any) -> float:
        import optuna

        default = bool(trial.user_attrs.get(DEFAULT_FLAG))
        params = suggest(trial, self.space, only=set(self.default_point) if default else None)
        row = TrialRow(trial.number, {} if default else params, default)
        self.rows.append(row)
        config = self.config if default else replace(self.config, params={**self.config.params, **params})
        t0 = time.perf_counter()
        if self.remote is not None:
            self.remote.submit(config, self.want_pred, [self._prepared(si) for si in range(len(self.f.splits))])
        try:
            for si in range(len(self.f.splits)):
                self._fold(row, config, si)
                trial.report(row.mean, si)
                self._tell(trial.number, len(row.scores))
                if row.state == "running" and len(row.scores) < len(self.f.splits) and trial.should_prune():
                    row.state = "pruned"
                    raise optuna.TrialPruned()
        finally:
            row.seconds = time.perf_counter() - t0
            if self.remote is not None and len(row.scores) < len(self.f.splits):  # pruned, failed, Ctrl-C ...
                self.remote.cancel()
        row.state = "complete"
        return float(row.mean)

    def _fold(self, row: TrialRow, config: ModelConfig, si: int) -> None:
        """Fit and score one fold; a failure, or the time limit reached, ends the trial here."""
        import optuna

        f = self.f
        res = self._local(config, si) if self.remote is None else self.remote.take(si, self.deadline)
        if res is None or res.status == "timeout":
            self._out_of_time(row)
            raise optuna.TrialPruned()
        score = (res.metrics or {}).get(f.metric) if res.status == "ok" else None
        if res.status != "ok" or score is None:
            row.state, row.error = "failed", res.error or f"no {f.metric} for this model"
            raise _Failed(row.error)
        row.scores.append(float(score))
        row.metrics.append(res.metrics or {})
        if res.rounds:
            row.rounds.append(res.rounds)
        if self.want_pred:
            self.outputs.setdefault(row.number, {})[si] = res
            for done in self.rows[:-1]:  # pruned, failed and timed-out trials never join an ensemble
                if done.state != "complete":
                    self.outputs.pop(done.number, None)

    def _local(self, config: ModelConfig, si: int) -> ex.FoldResult | None:
        """Fold ``si`` fitted in this process, stopped at the deadline; None when it has passed."""
        f, split = self.f, self.f.splits[si]
        budget = None if self.deadline is None else self.deadline - time.perf_counter()
        if budget is not None and budget <= 0:
            return None
        shared = self._prepared(si)
        return ex.run_fold(0, si, f.schema, config, None if shared else f.X, f.y, split.train, split.test, f.classes,
                           False, self.want_pred, budget, shared)

    def _out_of_time(self, row: TrialRow) -> None:
        row.state, self.timed_out = "timeout", True

    def _prepared(self, si: int) -> ex.Prepared | None:
        """Fold ``si``'s preprocessing, fitted on its training rows once (None: each trial fits its own)."""
        if not self.f.share:
            return None
        if si not in self.prepared:
            from mlcli.experiments.cv.runner import SHARE_BUDGET

            split = self.f.splits[si]
            prep = ex.prep_fold(self.f.schema, self.config, self.f.X, self.f.y, split.train, split.test, False)
            keep = not prep.error and self.held + prep.nbytes <= SHARE_BUDGET
            self.prepared[si] = prep if keep else None
            self.held += prep.nbytes if keep else 0
        return self.prepared[si]

    def _tell(self, number: int, folds_done: int) -> None:
        if self.progress is None:
            return
        done = [r.mean for r in self.rows if r.state == "complete" and r.mean is not None]
        best = (max(done) if self.f.higher else min(done)) if done else None
        self.progress(number, self.total, folds_done, len(self.f.splits), best)


def _random_trials(n_trials: int | None) -> int:
    """Random trials before TPE models the results: a third of a short study, 10 at most."""
    return 10 if n_trials is None else max(3, min(10, n_trials // 3))


def best_row(rows: list[TrialRow], higher: bool) -> TrialRow | None:
    """The complete trial with the best mean; on a tie the earlier one (the defaults' trial comes first)."""
    done = [r for r in rows if r.state == "complete" and r.mean is not None]
    if not done:
        return None
    sign = 1.0 if higher else -1.0
    return max(done, key=lambda r: (sign * r.mean, -r.number))
