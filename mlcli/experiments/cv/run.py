"""mlcli cv: a leakage-free model comparison across the same folds, with a test of the winner's margin.

Every (model, grid point) candidate is a whole pipeline from :func:`build_pipeline` (preprocessing + model),
fitted on the training rows of each fold only; all candidates see the same folds, and candidates with equal
preprocessing share it per fold. Fold fits run sequentially, in local worker processes (``jobs``, chosen from
the work when not given) or on a Dask cluster (``scheduler``): see :mod:`mlcli.experiments.cv.runner`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Dataset, Notify, encode_classes, load_dataset, quiet, row_hashes, warn
from mlcli.errors import ConfigError
from mlcli.evaluation.baseline import Baseline
from mlcli.evaluation.metrics import metric_names, resolve_metric
from mlcli.evaluation.report import measure
from mlcli.evaluation.scoring import decode
from mlcli.experiments.checks import Findings, duplicates_across, leak_screen, target_advice
from mlcli.experiments.cv import schedule
from mlcli.experiments.cv.execution import FoldResult, Progress, connect_scheduler, plan_parallel
from mlcli.experiments.cv.folds import Split, group_values, make_splits, without_single_rows
from mlcli.experiments.cv.leaderboard import CVResult, Row, build_rows
from mlcli.experiments.cv.request import (
    Candidate,
    CVRequest,
    check_balances,
    check_model_names,
    check_seconds,
    expand_marked,
    make_candidates,
    split_names,
)
from mlcli.experiments.cv.runner import Work, execute
from mlcli.experiments.train import bundle_meta
from mlcli.explain.native import native_importances
from mlcli.models.build import build_pipeline, default_threads
from mlcli.models.calibrate import check_resampling, check_task
from mlcli.models.fit_progress import close_bar, fit_with_progress, wanted
from mlcli.models.registry import MODELS, get_spec


def _check_out_paths(req: CVRequest) -> None:
    from mlcli.models.bundle import check_bundle_path

    if req.save_best:
        check_bundle_path(req.save_best, "--save-best")
    if req.timeout is not None:
        check_seconds(req.timeout, "--timeout")


def run_cv(req: CVRequest, notify: Notify = quiet, progress: Progress | None = None,
           stdin: Any = None) -> CVResult:
    """Cross-validate every candidate on the same folds; Ctrl-C returns the partial result (interrupted)."""
    t0 = time.perf_counter()
    names = split_names(req.models) or ["fast"]
    check_model_names(names)  # an unknown model fails before the data is read: nothing runs
    check_balances(req.balance)
    check_task(req.calibrate, req.data.task)
    check_resampling(req.calibrate, req.balance or [])
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
    result.calibrate = req.calibrate
    return result


def _run(req: CVRequest, jobs: int, threads: int, client: Any, notify: Notify,
         progress: Progress | None, stdin: Any) -> CVResult:
    ds = load_dataset(req.data, notify, stdin)
    groups = None
    if req.groups:
        ds, groups = group_values(ds, req.groups, notify)
    task = ds.task
    check_task(req.calibrate, task, ds.schema.target)
    y, classes = encode_classes(ds)
    if groups is None:
        ds, y, classes = without_single_rows(ds, y, classes, "cross-validation", notify)
    metric = resolve_metric(req.metric, task)
    splits = make_splits(y, task, classes, req.folds, req.repeats, req.seed, groups, req.groups,
                         fewer_ok=not req.folds_given, notify=notify)
    req.folds = len(splits) // req.repeats
    candidates = _candidates(req, ds, threads, notify)
    findings = _checks(req, ds, y, splits, notify)
    jobs, threads = _auto_plan(req, jobs, threads, candidates, len(splits), ds)
    configs = [c.config(req, threads) for c in candidates]
    want_train = req.train_scores or bool(req.grid)

    work = Work(candidates, configs, splits, ds.schema, ds.X, y, classes, want_train, req.oof, req.timeout,
                threads=threads, sizes=ds.X.shape)
    results, interrupted = execute(work, jobs, client, progress)

    ratio = float(np.mean([len(s.test) / len(s.train) for s in splits]))
    rows = build_rows(candidates, results, len(splits), metric_names(task), metric, ratio, interrupted)
    warnings = [f"{r.candidate.label}: {r.error}" for r in rows if r.status == "failed" and r.error]
    warnings += [f"{r.candidate.label}: timed out after {r.seconds:.1f} s ({r.folds_done} of {len(splits)} "
                 "folds done)" for r in rows if r.status == "timeout"]
    n_done = sum(1 for r in results.values() if r.status != "skipped")
    models = [r for r in rows if not get_spec(r.candidate.model).baseline]
    if not interrupted and all(r.status == "failed" for r in models):
        first = models[0]
        raise ConfigError(f"every model failed; {first.candidate.label}: {first.error}")
    result = CVResult(ds.source, ds.schema, len(ds.frame), ds.dropped_rows, metric, req.folds, req.repeats,
                      req.groups, req.seed, jobs, threads, req.scheduler, len(splits), rows, req.grid,
                      len(candidates) * len(splits), n_done, interrupted, 0.0, warnings=warnings, findings=findings)
    if req.oof:
        result.oof = oof_frame(candidates, results, splits, y, classes, task)
    if req.learning_curve and not interrupted:
        from mlcli.experiments.cv.learning import learning_curve

        labels = {c.label: cfg for c, cfg in zip(candidates, configs)}
        result.learning_curve = learning_curve(rows, labels, ds.schema, ds.X, y, task, classes, splits, metric,
                                               req.seed, notify)
    if req.save_best and not interrupted:
        best = next((r for r in models if r.rank is not None), None)  # the best model, never the baseline
        if best is None:
            raise ConfigError("no model finished its folds, so there is no best model to save with --save-best")
        if not best.best:
            warn(notify, f"the baseline scores better than every model; saving the best model, {best.candidate.label}")
        close_bar(progress)  # the refit shows its own progress line (models.fit_progress)
        try:
            result.saved = save_best(req, ds, y, classes, best, result, notify)
        except KeyboardInterrupt:  # the bundle write is atomic: nothing half-written is left
            result.interrupted = True
    return result


def _auto_plan(req: CVRequest, jobs: int, threads: int, candidates: list[Candidate], n_splits: int,
               ds: Dataset) -> tuple[int, int]:
    """Without --jobs and --threads: local worker processes when the work pays for starting them and the data
    fits in memory once per worker (:func:`schedule.auto_jobs`), else the plan as it was."""
    if req.jobs is not None or req.threads is not None or req.scheduler:
        return jobs, threads
    if any(get_spec(c.model).text_only for c in candidates):  # fine-tuning: one process, every core (or GPU)
        return jobs, threads
    costs = schedule.Costs([c.model for c in candidates], *ds.X.shape)
    n = schedule.auto_jobs(len(candidates) * n_splits, costs.total(n_splits), schedule.data_bytes(ds.X),
                           schedule.cpu_cores(), schedule.available_memory())
    return (jobs, threads) if n <= 1 else plan_parallel(n, None, None)


def _candidates(req: CVRequest, ds: Dataset, threads: int, notify: Notify) -> list[Candidate]:
    """Every (model, grid point, balance) to compare, each checked before anything is fitted, and the
    baseline (the trivial model) beside them."""
    models: list[str] = []
    for model, from_set in expand_marked(split_names(req.models) or ["fast"], ds.task, notify):
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
        raise ConfigError(f"no installed model can do this {ds.task} task; list them with: mlcli models")
    candidates = make_candidates(models, req.grid, req.balance)
    baseline = next(s for s in MODELS.values() if s.baseline)
    if not any(get_spec(m).baseline for m in models):
        candidates.append(Candidate(baseline.display_name(ds.task)))
    return candidates


def _checks(req: CVRequest, ds: Dataset, y: np.ndarray, splits: list[Split], notify: Notify) -> Findings:
    """Leaks (before fitting) and rows copied across the folds."""
    findings = target_advice(ds.y, ds.task, req.log_target)
    for line in findings.warnings:
        notify(line)
    findings.warnings[:0] = ds.warnings  # what reading the data found (told then): kept in the result too
    if req.leak_check:
        findings.add(leak_screen(ds.schema, ds.X, y, req.seed, notify))
    hashes = row_hashes(ds.X, y)
    copied = [duplicates_across(hashes[s.train], hashes[s.test]).duplicates for s in splits]
    count, total = sum(c["test_rows"] for c in copied), sum(c["of"] for c in copied)
    if count:
        line = (f"{count} of the {total} held-out rows of the folds ({count / total:.1%}) are exact copies of rows "
                "in their training folds, so the scores are optimistic: remove duplicate rows from the data")
        warn(notify, line)
        findings.warnings.append(line)
    findings.duplicates = {"test_rows": count, "of": total}
    return findings


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
    from mlcli.models.bundle import save_bundle

    config = best.candidate.config(req, req.threads or default_threads())
    notify(f"refitting {best.candidate.label} on all {len(y)} rows for --save-best")
    pipeline = build_pipeline(ds.schema, config)
    fit_with_progress(pipeline, ds.X, y, f"refitting {best.candidate.label} on {len(y):,} rows", wanted(notify))
    threshold = 0.5 if ds.task == "binary" else None
    train_report = measure(pipeline, ds.X, y, ds.task, classes, threshold)
    meta = bundle_meta(ds, config, classes, threshold, best.mean, train_report.metrics,
                       native_importances(pipeline), len(y), 0, baseline=Baseline.fit(ds.task, y, len(classes)),
                       warnings=result.findings.warnings)
    meta["cv"] = {"metric": result.metric, "folds": result.folds, "repeats": result.repeats,
                  "groups": result.groups, "score": best.score(result.metric),
                  "score_std": best.std.get(result.metric), "metrics_std": best.std,
                  "leaderboard": [r.candidate.label for r in result.rows if r.rank is not None]}
    return str(save_bundle(req.save_best, pipeline, meta, train_rows=row_hashes(ds.X, y)))
