"""Running the fold work: what starts next, where, on how many threads, and the preprocessing shared by models.

**Fold work done once.** Candidates whose pipelines start with an equal preprocessing step (the first step,
"preprocess": imputation, encoding, TF-IDF vocabulary, date parts; equal by a hash of its type and
parameters) form a group: xgboost, lightgbm, rf and the baseline (unscaled) are one, logreg and svm
(standardised) another; CatBoost (native categoricals), a resampling strategy's encodings or a text-only
model make their own. For each fold, a group's step is fitted once on the training rows
(:func:`execution.prep_fold`, exactly the ``fit_transform`` the pipeline's own fit would call) and every
member fits only the rest of its pipeline on the preprocessed rows: the same numbers as refitting the step
per model, which the tests check on every metric and every out-of-fold prediction. The preprocessing time is
charged to the members in equal parts, so a row's fit seconds still add up to the run's work. Groups of one,
and groups whose preprocessed fold would pass ``SHARE_BUDGET`` (measured on its first fold), take the usual
path. ``MLCLI_CV_SHARE=0`` turns sharing off.

**Scheduling.** Rather than handing joblib a fixed list, the runner keeps exactly as many pieces of work
running as the pool has slots and chooses the next one when a slot frees (:mod:`.schedule`: longest expected
first in parallel, fold by fold sequentially), so the choice uses every fit measured so far, the fits named
on the progress bar are the ones running, and a fit's threads can be set when it starts (the tail). A
group's fold is preprocessed as its own piece of work the first time one of its members is chosen; its
members follow as soon as it is done, on any worker: the preprocessed matrices travel with each member's
fit (pickled to local workers, scattered once on Dask). The alternative, one piece per (group, fold) that
fits its members in turn, packs worse: on 2 cores with 5 models it leaves whole groups of fits for the end.
At most ``SHARE_BUDGET`` bytes of preprocessed folds are held at once; a group waits (others run) rather
than exceed it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mlcli.experiments.cv import execution as ex
from mlcli.experiments.cv import schedule
from mlcli.experiments.cv.execution import FoldResult, Prepared, Progress
from mlcli.experiments.cv.folds import Split
from mlcli.experiments.cv.pools import make_pool
from mlcli.experiments.cv.request import Candidate
from mlcli.models.build import ModelConfig
from mlcli.models.registry import get_spec

SHARE_ENV = "MLCLI_CV_SHARE"
SHARE_BUDGET = 512 * 2**20  # bytes of preprocessed folds held at once
TICK_S = 0.5  # how often a parallel run refreshes the progress between fits


def preprocess_key(schema: Any, config: ModelConfig) -> str | None:
    """A hash of the unfitted preprocessing step of ``config``'s pipeline, or None when it has none to share."""
    import joblib

    try:
        steps = ex.build_pipeline(schema, config).steps
        if len(steps) < 2 or steps[0][0] != "preprocess":
            return None
        step = steps[0][1]
        return joblib.hash((type(step).__module__, type(step).__qualname__, step.get_params(deep=True)))
    except Exception:  # noqa: BLE001 - a step that cannot be hashed is simply not shared
        return None


def share_groups(schema: Any, configs: list[ModelConfig]) -> list[list[int]]:
    """Candidates (indices) with equal preprocessing steps, in groups of two or more."""
    by_key: dict[str, list[int]] = {}
    for ci, config in enumerate(configs):
        key = preprocess_key(schema, config)
        if key is not None:
            by_key.setdefault(key, []).append(ci)
    return [members for members in by_key.values() if len(members) > 1]


@dataclass
class _Prep:
    members: set[int]  # the members that have yet to start their fit of this fold
    state: str = "running"  # running | ready | failed
    data: Any = None  # the Prepared (or its handle on a cluster) while members still need it
    info: Prepared | None = None
    nbytes: int = 0


@dataclass
class _Piece:
    kind: str  # fit | prep
    ci: int  # the candidate (prep: the group)
    si: int
    label: str
    started: float = 0.0
    expected: float = 0.0
    threads: int = 0


@dataclass
class Work:
    """What the fold work needs, the same for every piece."""

    candidates: list[Candidate]
    configs: list[ModelConfig]
    splits: list[Split]
    schema: Any
    X: Any
    y: np.ndarray
    classes: list[Any]
    want_train: bool
    want_pred: bool
    timeout: float | None
    threads: int = 1
    share: bool = True
    sizes: tuple[int, int] = (0, 0)  # rows, columns (expected costs)
    groups: list[list[int]] = field(default_factory=list)


def execute(work: Work, jobs: int, client: Any, progress: Progress | None
            ) -> tuple[dict[tuple[int, int], FoldResult], bool]:
    """Every (candidate, split) fit; (results, interrupted). Ctrl-C returns the fits finished so far."""
    if work.share and schedule.env_flag(SHARE_ENV):
        work.groups = share_groups(work.schema, work.configs)
    return _Runner(work, make_pool(jobs, client, schedule.cpu_cores()), progress).run()


class _Runner:
    def __init__(self, work: Work, pool: Any, progress: Progress | None):
        self.w, self.pool, self.progress = work, pool, progress
        n_cand, n_splits = len(work.candidates), len(work.splits)
        self.total = n_cand * n_splits
        self.pending = {(ci, si) for ci in range(n_cand) for si in range(n_splits)}
        self.results: dict[tuple[int, int], FoldResult] = {}
        self.used = [0.0] * n_cand
        self.stopped: set[int] = set()  # candidates timed out or failed: their remaining folds are skipped
        self.group_of = {ci: g for g, members in enumerate(work.groups) for ci in members}
        self.preps: dict[tuple[int, int], _Prep] = {}
        self.group_bytes: dict[int, int] = {}
        self.unshared: set[int] = set()
        self.open_bytes = 0
        self.running: dict[Any, _Piece] = {}
        self.costs = schedule.Costs([c.model for c in work.candidates], *work.sizes)
        self.prep_seconds: list[float] = []
        self.work_done = 0.0
        self.sequential = pool.slots == 1
        self.boost = type(pool).__name__ == "ProcessPool"  # threads at the tail: local workers only
        self.cores = schedule.cpu_cores()
        self.X, self.y = pool.put(work.X), pool.put(work.y)

    def run(self) -> tuple[dict[tuple[int, int], FoldResult], bool]:
        self._report("")
        try:
            while True:
                self._fill()
                if not self.running:
                    break
                done = self.pool.wait(list(self.running), TICK_S)
                for handle in done:
                    self._finish(handle)
                if not done:
                    self._report("")
        except KeyboardInterrupt:
            self.pool.close(abort=True)
            return self.results, True
        except BaseException:
            self.pool.close(abort=True)
            raise
        return self.results, False

    # ------------------------------------------------------------------------------------ choosing work

    def _fill(self) -> None:
        started = False
        while len(self.running) < self.pool.slots:
            piece = self._next()
            if piece is None:
                break
            self._start(piece)
            started = True
        if started:
            self._report("")

    def _next(self) -> _Piece | None:
        for ci, si in schedule.order(list(self.pending), self.costs, self.sequential):
            if ci in self.stopped:
                self._record(FoldResult(ci, si, "skipped"))
                continue
            g = self.group_of.get(ci)
            if g is None:
                return _Piece("fit", ci, si, self._label(ci, si))
            prep = self.preps.get((g, si))
            if prep is None:
                if g in self.unshared:
                    return _Piece("fit", ci, si, self._label(ci, si))
                if self._room(g):
                    return _Piece("prep", g, si, schedule.fit_label("preprocessing", *self._fold(si)))
                continue
            if prep.state == "ready":
                return _Piece("fit", ci, si, self._label(ci, si))
            if prep.state == "failed":
                info = prep.info or Prepared()
                self._record(FoldResult(ci, si, "failed", fit_s=info.fit_s / len(self.w.groups[g]),
                                        error=info.error))
        return None

    def _room(self, g: int) -> bool:
        """Whether a new preprocessed fold of group ``g`` fits in the memory budget now."""
        size = self.group_bytes.get(g)
        return size is None or self.open_bytes == 0 or self.open_bytes + size <= SHARE_BUDGET

    def _start(self, piece: _Piece) -> None:
        w = self.w
        split = w.splits[piece.si]
        piece.started = time.perf_counter()
        if piece.kind == "prep":
            members = {ci for ci in w.groups[piece.ci] if ci not in self.stopped}
            self.preps[(piece.ci, piece.si)] = _Prep(members)
            piece.expected = float(np.mean(self.prep_seconds)) if self.prep_seconds else 0.5
            handle = self.pool.submit(ex.prep_fold, w.schema, w.configs[w.groups[piece.ci][0]], self.X, self.y,
                                      split.train, split.test, w.want_train)
            self.running[handle] = piece
            return
        ci = piece.ci
        self.pending.discard((ci, piece.si))
        config = self._config(ci)
        piece.expected, piece.threads = self.costs.expected(ci), config.n_threads or 1
        budget = None if w.timeout is None else max(w.timeout - self.used[ci], 1e-3)
        g = self.group_of.get(ci)
        prep = self.preps.get((g, piece.si)) if g is not None else None
        shared, sharing = (prep.data, len(w.groups[g])) if prep is not None else (None, 1)
        handle = self.pool.submit(ex.run_fold, ci, piece.si, w.schema, config, None if prep else self.X, self.y,
                                  split.train, split.test, w.classes, w.want_train, w.want_pred, budget, shared,
                                  sharing)
        self.running[handle] = piece
        if prep is not None:
            self._release(prep, ci)

    def _config(self, ci: int) -> ModelConfig:
        """The candidate's config, with more threads for a last fit that would leave cores idle."""
        config = self.w.configs[ci]
        if not self.boost:
            return config
        busy = sum(p.threads or 1 for p in self.running.values())
        remaining = 1 + sum(1 for c, _ in self.pending if c not in self.stopped)
        threads = schedule.tail_threads(get_spec(config.model).name, self.w.threads, self.cores - busy, remaining,
                                        self.pool.slots - len(self.running))
        return config if threads == self.w.threads else replace(config, n_threads=threads)

    def _release(self, prep: _Prep, ci: int) -> None:
        prep.members.discard(ci)
        if not prep.members and prep.data is not None:
            prep.data = None
            self.open_bytes -= prep.nbytes

    # ------------------------------------------------------------------------------------ finished work

    def _finish(self, handle: Any) -> None:
        piece = self.running.pop(handle)
        value = self.pool.result(handle)
        if piece.kind == "prep":
            self._prepared(piece, value)
            return
        self._record(value)
        if value.status == "ok":
            self.costs.observe(value.candidate, value.seconds)
        self._report(piece.label)

    def _prepared(self, piece: _Piece, info: Prepared) -> None:
        prep = self.preps[(piece.ci, piece.si)]
        prep.info = info
        self.prep_seconds.append(info.fit_s + info.transform_s)
        self.work_done += info.fit_s + info.transform_s
        if info.error:
            prep.state = "failed"
            return
        prep.state, prep.nbytes = "ready", info.nbytes
        self.group_bytes[piece.ci] = max(self.group_bytes.get(piece.ci, 0), prep.nbytes)
        if prep.nbytes > SHARE_BUDGET:  # too large to hold while its members run: the usual path from now on
            self.unshared.add(piece.ci)
        if prep.members:
            prep.data = self.pool.put(info)
            self.open_bytes += prep.nbytes
        self._report("")

    def _record(self, res: FoldResult) -> None:
        ci = res.candidate
        self.pending.discard((ci, res.split))
        self.results[(ci, res.split)] = res
        self.used[ci] += res.seconds
        self.work_done += res.seconds
        timeout = self.w.timeout
        if res.status in ("timeout", "failed") or (timeout is not None and self.used[ci] > timeout
                                                   and res.status == "ok"):
            if res.status == "ok":  # finished, but the model is now over its budget
                res.status = "timeout"
            self.stopped.add(ci)
        g = self.group_of.get(ci)
        prep = self.preps.get((g, res.split)) if g is not None else None
        if prep is not None:  # skipped, or failed with its fold's preprocessing: the member needs it no more
            self._release(prep, ci)

    # ------------------------------------------------------------------------------------ progress

    def _fold(self, si: int) -> tuple[int, int, bool]:
        split = self.w.splits[si]
        return split.fold, split.repeat, bool(self.w.splits[-1].repeat)

    def _label(self, ci: int, si: int) -> str:
        return schedule.fit_label(self.w.candidates[ci].label, *self._fold(si))

    def _report(self, last: str) -> None:
        if not self.progress:
            return
        now = time.perf_counter()
        left = sum(self.costs.expected(ci) for ci, _ in self.pending if ci not in self.stopped)
        in_flight = [(now - p.started, p.expected) for p in self.running.values() if p.kind == "fit"]
        running_left = [max(expected - ran, 0.05 * expected) for ran, expected in in_flight]
        left += sum(running_left)
        done = self.work_done + sum(min(ran, expected) for ran, expected in in_flight)
        eta = max(left / max(self.pool.slots, 1), max(running_left, default=0.0))
        self.progress(len(self.results), self.total, last, running=[p.label for p in self.running.values()],
                      work=(done, done + left), eta=eta)
