"""mlcli tune: the search for one model's parameters on cv's folds, with cv's data layer, checks and --save-best.

Order of work, so that bad input costs nothing: the request's own checks (model, space, --trials,
--time-limit, --save-best path), then the data, the folds and the space for the task (a bad --param fails
here), then cv's checks (target advice, leak screen, rows copied across folds), the baseline on the same folds,
and the search (:mod:`.search`). The time limit counts from the start of the command; the --save-best refit
comes after it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from mlcli.data.dataset import Dataset, Notify, encode_classes, load_dataset, quiet
from mlcli.errors import ConfigError
from mlcli.evaluation.metrics import higher_is_better, metric_names, resolve_metric
from mlcli.experiments.cv import execution as ex
from mlcli.experiments.cv import schedule
from mlcli.experiments.cv.folds import group_values, make_splits
from mlcli.experiments.cv.leaderboard import CVResult, Row, _summary
from mlcli.experiments.cv.request import MAX_SECONDS, Candidate, CVRequest, round_seconds
from mlcli.experiments.cv.run import _checks as cv_checks
from mlcli.experiments.cv.run import save_best
from mlcli.experiments.cv.runner import SHARE_ENV
from mlcli.experiments.tune.request import TuneRequest
from mlcli.experiments.tune.result import TuneResult
from mlcli.experiments.tune.search import PRUNE_AFTER, Folds, Search, TrialProgress, TrialRow, best_row
from mlcli.models.build import ModelConfig, build_pipeline, default_threads
from mlcli.models.fit_progress import close_bar
from mlcli.models.registry import MODELS, get_spec
from mlcli.models.space import defaults_in_space, describe, require_space, searched, space_for

if TYPE_CHECKING:
    from mlcli.experiments.tune.store import StudyLink


def run_tune(req: TuneRequest, notify: Notify = quiet, progress: TrialProgress | None = None,
             stdin: Any = None) -> TuneResult:
    """Tune ``req.model``; Ctrl-C returns the trials so far (interrupted)."""
    t0 = time.perf_counter()
    req.check()
    client = ex.connect_scheduler(req.scheduler) if req.scheduler else None  # unreachable: fail before reading
    try:
        return _run(req, t0, client, notify, progress, stdin)
    finally:
        if client is not None:
            client.close()


def _run(req: TuneRequest, t0: float, client: Any, notify: Notify, progress: TrialProgress | None,
         stdin: Any) -> TuneResult:
    spec = get_spec(req.model)
    deadline = None if req.time_limit is None else t0 + req.time_limit
    cvreq = req.cv_request()
    ds = load_dataset(req.data, notify, stdin)
    groups = None
    if req.groups:
        ds, groups = group_values(ds, req.groups, notify)
    y, classes = encode_classes(ds)
    metric = resolve_metric(req.metric, ds.task)
    splits = make_splits(y, ds.task, classes, req.folds, req.repeats, req.seed, groups, req.groups)
    threads = req.threads or (1 if client is not None else default_threads())  # as cv --scheduler
    config = Candidate(spec.display_name(ds.task)).config(cvreq, threads)
    space, point = task_space(req, ds, config)
    link = study_link(req, ds, y, splits, config, space, metric)
    findings = cv_checks(cvreq, ds, y, splits, notify)
    folds = Folds(ds.schema, ds.X, y, classes, splits, metric, higher_is_better(metric),
                  share=schedule.env_flag(SHARE_ENV))
    baseline = baseline_score(cvreq, folds, threads)
    notify(f"tuning {config.model}: {', '.join(searched(space))} on {len(splits)} folds"
           + (f", at most {req.n_trials} trials" if req.n_trials else "")
           + (f", {req.time_limit:g} s" if req.time_limit else ""))
    if link is not None and link.prior:
        notify(f"resuming the kept search: {len(link.prior)} trial(s) so far")
    remote = None
    if client is not None:
        from mlcli.experiments.tune.remote import RemoteFolds

        remote = RemoteFolds(client, ds.schema, ds.X, y, splits, classes)
    search = Search(folds, config, space, point, deadline, progress, remote=remote)
    ready = time.perf_counter() - t0
    rows = search.run(req.n_trials, req.seed, req.startup_trials or PRUNE_AFTER, link)
    if rows and not search.interrupted and all(r.state == "failed" for r in rows):  # as cv's "every model failed"
        raise ConfigError(f"every trial failed; trial {rows[0].number}: {rows[0].error}")
    best = best_row(rows, folds.higher)
    if best is None and req.time_limit is not None and not search.interrupted:  # an interrupt stays 130/143
        raise out_of_time(req.time_limit, rows, ready, len(splits))
    result = TuneResult(ds.source, ds.schema, len(ds.frame), ds.dropped_rows, config.model, metric, req.folds,
                        req.repeats, len(splits), req.groups, req.seed, threads, describe(space), dict(req.params),
                        req.n_trials, req.time_limit, rows, best, baseline, search.interrupted, search.timed_out,
                        findings=findings)
    result.scheduler = req.scheduler
    result.warnings += [f"trial {r.number}: {r.error}" for r in rows if r.state == "failed"]
    if link is not None:
        result.study, result.resumed = link.name, len(link.prior)
        if link.error:
            result.warnings.append(f"the trials were not kept for --resume: {link.error}")
    result.seconds = time.perf_counter() - t0
    if req.save_best and not search.interrupted and best is not None:
        close_bar(progress)  # the refit shows its own progress line (models.fit_progress)
        try:
            result.saved = save_tuned(cvreq, ds, y, classes, best, result, notify)
        except KeyboardInterrupt:  # the bundle write is atomic: nothing half-written is left
            result.interrupted = True
    return result


def out_of_time(limit: float, rows: list[TrialRow], ready: float, n_splits: int) -> ConfigError:
    """The one line when the time limit ended the run before any trial finished, with a rough lower bound of
    the limit this data needs: the seconds before the search, then the defaults' trial (what it ran, scaled to
    all its folds), rounded up to a round number above the limit given."""
    first = rows[0] if rows else None
    trial = first.seconds * n_splits / (len(first.scores) + 1) if first is not None else 0.0
    need = next((s for s in round_seconds() if s > 1.4 * limit and s >= ready + trial), float(MAX_SECONDS))
    return ConfigError(f"no trial finished within --time-limit {limit:g} s: give a larger --time-limit (at least "
                       f"~{need:g} s for this data)")


def study_link(req: TuneRequest, ds: Dataset, y: np.ndarray, splits: list[Any], config: ModelConfig,
               space: dict[str, tuple], metric: str) -> StudyLink | None:
    """Where this search is kept (None: nowhere); with --resume, the kept trials it continues."""
    if not req.studies:
        return None
    from mlcli.experiments.tune.store import StudyLink, config_parts, data_key, digest, load_trials, split_key

    parts = {"data": data_key(ds.X, y), "target": ds.schema.target, "task": ds.task, "metric": metric,
             "folds": split_key(splits), **config_parts(config, space)}
    name = f"tune-{config.model}-{digest(parts)}"
    prior = load_trials(req.studies, name) if req.resume else []
    if not prior and req.resume:
        raise ConfigError(f"--resume: no kept {config.model} search of this data and target on these folds (seed, "
                          f"--folds, --repeats, --groups) with this metric, --param values and preprocessing; run "
                          f"once without --resume")
    return StudyLink(req.studies, name, prior or [])


def innermost(model: Any) -> Any:
    """The library estimator inside mlcli's wrappers (target transforms, calibration, early stopping)."""
    for _ in range(6):
        inner = next((getattr(model, a) for a in ("regressor", "estimator")
                      if getattr(model, a, None) is not None and hasattr(getattr(model, a), "get_params")), None)
        if inner is None:
            return model
        model = inner
    return model


def task_space(req: TuneRequest, ds: Dataset, config: ModelConfig) -> tuple[dict[str, tuple], dict[str, Any]]:
    """(the space this task's estimator takes, less the --param keys; the defaults that lie in it). Building
    the pipeline checks every --param value before anything is fitted."""
    from mlcli.models.estimators import init_names

    spec = get_spec(config.model)
    model = innermost(build_pipeline(ds.schema, config).steps[-1][1])
    values = model.get_params(deep=False)
    accepted = set(values) | init_names(type(model))
    space = require_space(config.model, space_for(req.space or spec.search_space, accepted), ds.task, req.params)
    return space, defaults_in_space(space, values)


def baseline_score(cvreq: CVRequest, folds: Folds, threads: int) -> float | None:
    """The trivial model's mean score on the same folds (every report has a baseline beside the model)."""
    base = next(s for s in MODELS.values() if s.baseline)
    config = Candidate(base.display_name(folds.schema.task)).config(cvreq, threads)
    scores = []
    for si, split in enumerate(folds.splits):
        res = ex.run_fold(0, si, folds.schema, config, folds.X, folds.y, split.train, split.test, folds.classes,
                          False, False, None)
        score = (res.metrics or {}).get(folds.metric) if res.status == "ok" else None
        if score is None:
            return None
        scores.append(score)
    return round(float(np.mean(scores)), 6)


def save_tuned(cvreq: CVRequest, ds: Dataset, y: np.ndarray, classes: list[Any], best: TrialRow,
               result: TuneResult, notify: Notify) -> str:
    """Refit the best trial on every row and save the bundle exactly as `cv --save-best` does."""
    candidate = Candidate(result.model, tuple(best.params.items()))
    mean, std = _summary(best.metrics, metric_names(ds.task))
    row = Row(candidate, "ok", len(best.scores), list(best.scores), mean, std, None, None, None, None, best.seconds,
              rank=1, best=True, rounds=list(best.rounds))
    n = len(result.rows) * result.splits
    board = CVResult(ds.source, ds.schema, result.n_rows, result.dropped_rows, result.metric, result.folds,
                     result.repeats, result.groups, result.seed, 1, result.threads, None, result.splits, [row], {}, n,
                     n, False, result.seconds, findings=result.findings)
    return save_best(cvreq, ds, y, classes, row, board, notify)
