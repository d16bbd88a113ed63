"""mlcli auto: the best model a time budget can buy, on cv's data layer, checks and folds.

Order of work, so that bad input costs nothing: the request's own checks (preset, --time-limit, --trials,
--metric, --out), then the data, the folds and cv's checks (target advice, leak screen, rows copied across
folds). Then, within the time limit (counted from the start of the command):

1. **Portfolio** (:mod:`.portfolio`): its candidates, in order, through cv's fold machinery
   (:func:`mlcli.experiments.cv.runner.execute`: shared preprocessing, worker processes, per-candidate time
   budgets) on the same folds, out-of-fold predictions kept, in batches. Before a candidate starts, its expected
   cost (the portfolio's estimate, refined by the fits measured so far: ``schedule.Costs``) is compared with
   the time left; one that would overrun is skipped. Each batch's candidates get the time left as their budget
   and a watchdog stops the batch at the end of the search time, so the promise holds. The first batch holds
   the baseline and the cheapest model only: it always finishes, and it calibrates the estimates before a
   slow model can take the time (on a 4,000-review text file XGBoost and CatBoost once took a 60-second budget
   while the logistic regression that would have finished in a second waited behind them).
2. **Tuning** (:mod:`.tuning`, with the preset ``best``): Optuna TPE on the most promising models with the
   time left, pruned after each fold, on the same folds; complete trials join the leaderboard.
3. **Ensemble** (:mod:`.board`): greedy selection with replacement on the out-of-fold predictions of
   everything that finished (not the baseline), and a stacker if its inner-CV score beats the blend.
4. **Final model** (:mod:`.final`, only with ``--out``): each chosen member refitted on all rows (the default)
   or, with ``--bag``, the members' fold models averaged; saved as one bundle. The search leaves time for it.

Ctrl-C stops the search: the ensemble is chosen from what finished and saved (with --out); exit 130.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mlcli.data.dataset import Dataset, Notify, encode_classes, load_dataset, quiet
from mlcli.data.target import skewed_positive
from mlcli.errors import ConfigError
from mlcli.evaluation.metrics import resolve_metric
from mlcli.experiments.auto import portfolio as P
from mlcli.experiments.auto.board import AutoCandidate, Tried
from mlcli.experiments.auto.meta import meta_of_schema
from mlcli.experiments.auto.request import CANDIDATE_SHARE, AutoRequest, Budget, Preset
from mlcli.experiments.checks import Findings
from mlcli.experiments.cv import schedule
from mlcli.experiments.cv.execution import FoldResult, plan_parallel, signals_seen
from mlcli.experiments.cv.folds import Split, make_splits, without_single_rows
from mlcli.experiments.cv.run import _checks as cv_checks
from mlcli.experiments.cv.runner import Work, execute
from mlcli.models.build import ModelConfig

BATCH_SHARE = 0.25  # a batch holds candidates expected to take this share of the time left (at least one)
MAX_BATCH = 8  # candidates in one batch at most
FIRST_TIERS = ("baseline", "default")
FINAL_SHARE_MAX = 0.5  # with --out, the final fits are given at most this share of the time limit


class _Deadline(KeyboardInterrupt):
    """Raised by the watchdog when a batch runs past the end of the search time (execute stops its fits)."""


@dataclass
class Context:
    """One auto run: the data, the folds, the plan, the budget and everything tried so far."""

    req: AutoRequest
    ds: Dataset
    y: np.ndarray
    classes: list[Any]
    metric: str
    splits: list[Split]
    jobs: int
    threads: int
    budget: Budget
    tried: Tried
    notify: Notify = quiet
    progress: Any = None
    findings: Findings = field(default_factory=Findings)
    interrupted: bool = False
    skipped: list[dict[str, Any]] = field(default_factory=list)
    n_candidates: int = 0
    signals: list[int] = field(default_factory=list)  # SIGINT / SIGTERM seen during the search
    client: Any = None  # a Dask client (--scheduler): the fold fits run on its cluster
    tune: bool = False  # whether step 2 runs (the preset's choice for this many rows, or --tune/--no-tune)

    @property
    def k(self) -> int:
        return 0 if self.ds.task == "regression" else len(self.classes)

    def phase(self, name: str) -> None:
        if self.progress is not None:
            self.progress.phase(name)


def run_auto(req: AutoRequest, notify: Notify = quiet, progress: Any = None, stdin: Any = None) -> dict[str, Any]:
    """Search within ``req.time_limit``; the result document (:func:`mlcli.experiments.auto.result.document`)."""
    budget = Budget(req.time_limit)
    preset = req.check()
    if req.test_path and not req.out:  # the final model is fitted to be scored, then removed
        import shutil
        import tempfile

        scratch = tempfile.mkdtemp(prefix="mlcli-auto-")
        try:
            doc = run_auto(replace(req, out=f"{scratch}/final"), notify, progress, stdin)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        doc["saved"] = None
        return doc
    client = None
    if req.scheduler:
        from mlcli.experiments.cv.execution import connect_scheduler

        client = connect_scheduler(req.scheduler)  # unreachable: fail before reading
    try:
        return _run(req, preset, budget, client, notify, progress, stdin)
    finally:
        if client is not None:
            client.close()


def _run(req: AutoRequest, preset: Preset, budget: Budget, client: Any, notify: Notify, progress: Any,
         stdin: Any) -> dict[str, Any]:
    from mlcli.experiments.auto.result import finish

    ctx = prepare(req, budget, notify, progress, stdin, client)
    ctx.tune = req.settings(len(ctx.y))[1]
    if req.resume and not ctx.tune:
        raise ConfigError(f"--resume continues auto's tuning, which the {req.preset} preset leaves out below "
                          f"{preset.tune_min_rows:,} rows ({len(ctx.y):,} here); add --tune or --trials N")
    if req.tune is None and preset.tune and not ctx.tune:
        notify(f"auto: no tuning below {preset.tune_min_rows:,} rows ({len(ctx.y):,} here): on small data the best "
               "of many trials scored on the same folds is mostly the luckiest one; --tune or --trials N tunes")
    if req.resume:
        from mlcli.experiments.auto.tuning import check_resumable

        check_resumable(ctx)
    cands = candidates(ctx, preset)
    ctx.n_candidates = len(cands)
    _plan(ctx, cands)
    with signals_seen(ctx.signals):
        tuning = search(ctx, cands)
    return finish(ctx, preset, tuning)


def search(ctx: Context, cands: list[P.Candidate]) -> list[dict[str, Any]] | None:
    """Steps 1 and 2 within the search time; Ctrl-C (or SIGTERM) ends them with what finished."""
    budget, tune = ctx.budget, ctx.tune
    t = time.perf_counter()
    ctx.phase("portfolio")
    try:
        portfolio_phase(ctx, cands, budget.portfolio_end(tune))
    except KeyboardInterrupt:
        ctx.interrupted = True
    t = budget.mark("portfolio", t)
    if not tune or ctx.interrupted:
        return None
    from mlcli.experiments.auto.tuning import tuning_phase

    ctx.phase("tuning")
    tuning = None
    try:
        tuning = tuning_phase(ctx)
    except KeyboardInterrupt:
        ctx.interrupted = True
    budget.mark("tuning", t)
    return tuning


def prepare(req: AutoRequest, budget: Budget, notify: Notify, progress: Any, stdin: Any, client: Any = None
            ) -> Context:
    """The data, the metric, the folds and cv's checks (leak screen included): everything before a fit."""
    cvreq = req.cv_request()
    ds = load_dataset(req.data, notify, stdin)
    y, classes = encode_classes(ds)
    ds, y, classes = without_single_rows(ds, y, classes, "auto's cross-validation", notify)
    if req.test_path:
        from mlcli.experiments.auto.testfile import check_test_file

        check_test_file(req.test_path, ds, req.data.path, req.data.sep, req.data.encoding)
    metric = resolve_metric(req.metric, ds.task)
    splits = make_splits(y, ds.task, classes, cvreq.folds, 1, req.seed, fewer_ok=req.folds is None, notify=notify)
    jobs, threads = plan_parallel(req.jobs, req.threads, req.scheduler, notify)
    if client is not None and jobs == -1:  # every worker thread of the cluster
        jobs = max(1, sum(client.nthreads().values()))
    ctx = Context(req, ds, y, classes, metric, splits, jobs, threads, budget, Tried(splits), notify, progress,
                  client=client)
    ctx.phase("checks")
    ctx.findings = cv_checks(cvreq, ds, y, splits, notify)
    budget.mark("data and checks", budget.start)
    return ctx


def candidates(ctx: Context, preset: Preset) -> list[P.Candidate]:
    """The baseline, then the portfolio's candidates for this data that the preset keeps."""
    from mlcli.models.registry import MODELS

    ds = ctx.ds
    meta = meta_of_schema(ds.schema, len(ctx.y), ctx.k)
    text = bool(ds.schema.by_role("text"))
    skewed = ds.task == "regression" and not ctx.req.log_target and skewed_positive(ds.y) is not None
    found = P.portfolio(ds.task, meta.n_rows, meta.n_features, meta.n_classes, meta.numeric_share, text,
                        skewed=skewed)
    kept = [c for c in found if c.tier in preset.tiers and _rank(c) <= preset.flaml_ranks]
    if ctx.req.models:
        kept = [c for c in kept if c.model in ctx.req.models]
        if not kept:
            raise ConfigError(f"--models {','.join(ctx.req.models)}: no portfolio candidate of these models for this "
                              f"{ds.task} data; leave --models out or name others")
    if ctx.req.limit_candidates is not None:
        kept = kept[:ctx.req.limit_candidates]
    base = next(s for s in MODELS.values() if s.baseline)
    cost = P.expected_cost(base.name, {}, meta)
    baseline = P.Candidate(base.name, {}, base.display_name(ds.task), cost, "baseline", None,
                           "the trivial model: every report has one beside the models")
    ctx.notify(f"auto: {len(kept)} portfolio candidate(s) on {len(ctx.splits)} folds, {ctx.req.time_limit:g} s "
               f"({ctx.req.preset} preset), optimising {ctx.metric}")
    return [baseline] + kept


def _rank(cand: P.Candidate) -> int:
    """FLAML's rank of a candidate (``lightgbm#flaml2`` -> 2); 1 for the others."""
    tail = cand.label.rpartition("#")[2]
    digits = "".join(ch for ch in tail if ch.isdigit())
    return int(digits) if cand.tier == "flaml" and digits else 1


def _plan(ctx: Context, cands: list[P.Candidate]) -> None:
    """Without --jobs/--threads: worker processes when the portfolio's work pays for them (as cv decides)."""
    req = ctx.req
    if req.jobs is not None or req.threads is not None or req.scheduler:
        return
    n_splits = len(ctx.splits)
    work = sum(c.cost_s for c in cands) * n_splits
    n = schedule.auto_jobs(len(cands) * n_splits, work, schedule.data_bytes(ctx.ds.X), schedule.cpu_cores(),
                           schedule.available_memory())
    if n > 1:
        ctx.jobs, ctx.threads = plan_parallel(n, None, None)


def config_of(ctx: Context, cand: P.Candidate) -> ModelConfig:
    req = ctx.req
    pre = replace(req.preprocess, text_features=cand.text_features) if cand.text_features else req.preprocess
    if cand.tier == "baseline":
        return ModelConfig(cand.model, {}, pre, req.seed, ctx.threads)
    return ModelConfig(cand.model, dict(cand.params), pre, req.seed, ctx.threads,
                       log_target=req.log_target or cand.log_target)


# --------------------------------------------------------------------------------------------- portfolio

def portfolio_phase(ctx: Context, cands: list[P.Candidate], end: float) -> None:
    """The candidates in order, in batches, while the time allows (see the module docstring)."""
    costs = schedule.Costs([c.model for c in cands], *ctx.ds.X.shape)
    costs.prior = [max(c.cost_s, 1e-3) for c in cands]
    queue = list(range(len(cands)))
    while queue and not ctx.interrupted:
        batch = _next_batch(ctx, cands, queue, costs, end)
        if batch:
            _run_batch(ctx, cands, batch, costs, end)
            end = min(end, _leave_final_time(ctx))


def _leave_final_time(ctx: Context) -> float:
    """With --out: the search's end moved so that the final fits of the best so far fit before the limit
    (at most half the limit); the new end of the search."""
    if ctx.req.out:
        from mlcli.experiments.auto.final import expected_final_s

        ctx.budget.final_s = min(expected_final_s(ctx), FINAL_SHARE_MAX * ctx.budget.limit)
    return ctx.budget.search_end


def _expected_wall(ctx: Context, costs: schedule.Costs, pi: int) -> float:
    return costs.expected(pi) * len(ctx.splits) / max(ctx.jobs, 1)


def _next_batch(ctx: Context, cands: list[P.Candidate], queue: list[int], costs: schedule.Costs,
                end: float) -> list[int]:
    """The next candidates to run together; those expected to overrun the time left are skipped."""
    left = end - time.perf_counter()
    batch: list[int] = []
    wall = 0.0
    measured = any(r.status == "ok" for (ci, _), r in ctx.tried.results.items()
                   if ctx.tried.candidates[ci].tier != "baseline")  # else the cheap defaults calibrate the costs
    while queue:
        pi = queue[0]
        expected = _expected_wall(ctx, costs, pi)
        if expected > left:
            queue.pop(0)
            ctx.skipped.append({"name": cands[pi].label, "expected_s": round(expected, 2),
                                "left_s": round(max(left, 0.0), 2)})
            continue
        first = not measured and any(cands[b].tier != "baseline" for b in batch)
        if batch and (ctx.jobs == 1 or wall + expected > BATCH_SHARE * left or len(batch) >= MAX_BATCH
                      or (not measured and cands[pi].tier not in FIRST_TIERS) or first):
            break  # one at a time in this process: a fit cannot be stopped from outside, only by its budget
        batch.append(queue.pop(0))
        wall += expected
    return batch


class _Watch:
    """The runner's progress callback: passes the news on and stops the batch at the end of the search time."""

    def __init__(self, ctx: Context, stop_at: float):
        self.ctx, self.stop_at, self.hit = ctx, stop_at, False

    def __call__(self, done: int, total: int, last: str, **kwargs: Any) -> None:
        if time.perf_counter() >= self.stop_at:
            self.hit = True
            raise _Deadline()
        if self.ctx.progress is not None:
            self.ctx.progress.fits(done, total, last, **kwargs)


def _run_batch(ctx: Context, cands: list[P.Candidate], batch: list[int], costs: schedule.Costs,
               end: float) -> None:
    # one candidate may not take more than CANDIDATE_SHARE of the portfolio's time: a default that is slow on
    # this data (CatBoost on 20,000 TF-IDF columns) times out instead of leaving nothing else to run
    left = max(min(end - time.perf_counter(), CANDIDATE_SHARE * (end - ctx.budget.start)), 1e-3)
    picked = [cands[pi] for pi in batch]
    autos = [AutoCandidate(c.model, tuple(c.params.items()), name=c.label, tier=c.tier, why=c.why) for c in picked]
    configs = [config_of(ctx, c) for c in picked]
    # a candidate's budget counts its fold seconds, which run side by side on ``jobs`` workers
    work = Work(autos, configs, ctx.splits, ctx.ds.schema, ctx.ds.X, ctx.y, ctx.classes, False, True,
                left * ctx.jobs, threads=ctx.threads, sizes=ctx.ds.X.shape)
    watch = _Watch(ctx, max(end, ctx.budget.search_end))
    try:
        results, interrupted = execute(work, ctx.jobs, ctx.client, watch)
    except _Deadline:  # before the runner's own handler was reached
        results, interrupted = {}, True
    stopped_by_time = watch.hit or (interrupted and not ctx.signals)
    if interrupted and not stopped_by_time:
        ctx.interrupted = True
    n = len(ctx.splits)
    for bi, pi in enumerate(batch):
        mine = {si: r for (ci, si), r in results.items() if ci == bi}
        for r in mine.values():
            if r.status == "ok" and cands[pi].tier != "baseline":  # its seconds are overhead, not fitting
                costs.observe(pi, r.seconds)
        missing = [si for si in range(n) if si not in mine]
        if stopped_by_time and len(missing) == n:  # never started: not tried
            ctx.skipped.append({"name": autos[bi].label, "expected_s": round(_expected_wall(ctx, costs, pi), 2),
                                "left_s": 0.0})
            continue
        stopped = any(r.status in ("timeout", "failed") for r in mine.values())
        if stopped_by_time and missing and not stopped:
            mine[missing[0]] = FoldResult(bi, missing[0], "timeout", error="the time limit was reached")
        ctx.tried.add(autos[bi], configs[bi], mine)
