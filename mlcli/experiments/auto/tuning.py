"""auto's step 2: tune's search (Optuna TPE over the registry's space, pruned after each fold, on the same folds)
on the most promising models, with the time the portfolio left.

The models tuned are the best ranked distinct models of the leaderboard so far that have a search space
(:data:`TUNE_MODELS` at most). Each search starts from that candidate's configuration: trial 0 is the
candidate itself (tune's defaults' trial: the pruner's reference, left out of the leaderboard as it repeats
the candidate's row) and the searched parameters are set on top of the candidate's others. The first model
gets :data:`FIRST_SHARE` of the tuning time when a second one follows. A model is tuned only when its time
allows :data:`MIN_CVS` cross-validations at the speed measured in the portfolio. The :data:`KEEP` best complete
trials of each search join the leaderboard with their out-of-fold predictions, so the ensemble can use them
(the others are counted in the tuning summary; a cheap model can run hundreds of trials).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mlcli.errors import ConfigError
from mlcli.evaluation.metrics import higher_is_better
from mlcli.experiments.auto.board import AutoCandidate, is_baseline
from mlcli.experiments.cv import execution as ex
from mlcli.experiments.cv import schedule
from mlcli.experiments.cv.runner import SHARE_ENV
from mlcli.experiments.tune.request import TuneRequest
from mlcli.experiments.tune.run import task_space
from mlcli.experiments.tune.search import PRUNE_AFTER, Folds, Search, TrialRow
from mlcli.models.build import default_threads
from mlcli.models.registry import get_spec

if TYPE_CHECKING:
    from mlcli.experiments.tune.store import StudyLink

TUNE_MODELS = 2
FIRST_SHARE = 0.6
MIN_CVS = 4
KEEP = 10


def picks(ctx: Any) -> list[int]:
    """Candidate indices to tune: the best ranked distinct models with a search space."""
    out: list[int] = []
    models: set[str] = set()
    for row in ctx.tried.rows(ctx.ds.task, ctx.metric):
        cand = row.candidate
        if row.status != "ok" or row.rank is None or is_baseline(cand) or cand.model in models:
            continue
        if not get_spec(cand.model).search_space:
            continue
        models.add(cand.model)
        out.append(ctx.tried.index(cand.label))
        if len(out) == TUNE_MODELS:
            break
    return out


def tuning_phase(ctx: Any) -> list[dict[str, Any]]:
    """Tune the picked models in turn with the time left; a summary per model tuned (or passed over)."""
    summaries: list[dict[str, Any]] = []
    chosen = picks(ctx)
    prefix = study_prefix(ctx) if ctx.req.studies else None
    for i, ci in enumerate(chosen):
        left = ctx.budget.left()
        if ctx.interrupted or left <= 0:
            break
        share = left if i == len(chosen) - 1 else left * FIRST_SHARE
        cand = ctx.tried.candidates[ci]
        cv_s = sum(r.seconds for (c, _), r in ctx.tried.results.items() if c == ci)
        if ctx.req.trials is None and share < MIN_CVS * cv_s:
            summaries.append({"candidate": cand.label, "skipped": f"{share:.1f} s left is less than {MIN_CVS} "
                              f"cross-validations ({cv_s:.1f} s each)"})
            continue
        summaries.append(tune_one(ctx, ci, time.perf_counter() + share, ctx.req.seed + i, prefix))
    return summaries


def study_prefix(ctx: Any) -> str:
    """What every kept search of this run shares in its name: the data, target, task, metric and folds."""
    from mlcli.experiments.tune.store import data_key, digest, split_key

    return "auto-" + digest({"data": data_key(ctx.ds.X, ctx.y), "target": ctx.ds.schema.target, "task": ctx.ds.task,
                             "metric": ctx.metric, "folds": split_key(ctx.splits)})


def check_resumable(ctx: Any) -> None:
    """--resume: a search of this data, target, metric and folds must be kept (checked before the portfolio)."""
    from mlcli.experiments.tune.store import study_names

    prefix = study_prefix(ctx)
    if not any(name.startswith(prefix + "-") for name in study_names(ctx.req.studies)):
        raise ConfigError("--resume: no kept auto search of this data and target on these folds (seed, --folds) "
                          "with this metric; run once without --resume")


def _link(ctx: Any, prefix: str | None, cand: AutoCandidate, config: Any, space: dict[str, tuple], seed: int,
          search: Search) -> StudyLink | None:
    """Where the search from ``cand`` is kept; with --resume, its kept trials and their fold predictions."""
    if prefix is None:
        return None
    from mlcli.experiments.tune.store import StudyLink, config_parts, digest, load_trials

    name = f"{prefix}-{digest({'candidate': cand.label, 'seed': seed, **config_parts(config, space)})}"
    prior = (load_trials(ctx.req.studies, name) or []) if ctx.req.resume else []
    if ctx.req.resume:
        ctx.notify(f"{cand.label}: resuming the kept search, {len(prior)} trial(s) so far" if prior
                   else f"{cand.label}: no kept search to resume, a new one")
        search.outputs.update(_kept_outputs(ctx.req.studies, name, prior))
    return StudyLink(ctx.req.studies, name, prior)


def _kept_outputs(path: str, name: str, prior: list[Any]) -> dict[int, dict[int, ex.FoldResult]]:
    """The kept complete trials' fold results: with their predictions where they were kept (the trials that
    joined the leaderboard), else their scores only (shown, but left out of the ensemble)."""
    from mlcli.experiments.tune.store import load_predictions

    kept = load_predictions(path, name)
    meta = kept.get("meta", {})
    out: dict[int, dict[int, ex.FoldResult]] = {}
    for trial in prior:
        row = TrialRow.from_trial(trial)
        if row.state != "complete":
            continue
        folds = {}
        for si, metrics in enumerate(row.metrics):
            key = f"t{row.number}_s{si}"
            fold = meta.get(key) or {"fit_s": row.seconds / max(len(row.metrics), 1), "predict_s": 0.0,
                                     "rounds": None}
            folds[si] = ex.FoldResult(0, si, "ok", metrics, fit_s=fold["fit_s"], predict_s=fold["predict_s"],
                                      pred=kept.get(f"{key}_pred"), proba=kept.get(f"{key}_proba"),
                                      rounds=fold["rounds"])
        out[row.number] = folds
    return out


def tune_one(ctx: Any, ci: int, deadline: float, seed: int, prefix: str | None = None) -> dict[str, Any]:
    """One model's search from candidate ``ci``; its complete trials join ``ctx.tried``."""
    req, ds, tried = ctx.req, ctx.ds, ctx.tried
    cand = tried.candidates[ci]
    config = replace(tried.configs[ci], n_threads=req.threads or (ctx.threads if ctx.client else default_threads()))
    treq = TuneRequest(req.data, model=cand.model, preprocess=config.preprocess, seed=seed, metric=ctx.metric,
                       log_target=config.log_target)
    try:
        space, point = task_space(treq, ds, config)
    except ConfigError as exc:
        return {"candidate": cand.label, "skipped": str(exc)}
    folds = Folds(ds.schema, ds.X, ctx.y, ctx.classes, ctx.splits, ctx.metric, higher_is_better(ctx.metric),
                  share=schedule.env_flag(SHARE_ENV))
    progress = None if ctx.progress is None else ctx.progress.trial
    remote = None
    if ctx.client is not None:
        from mlcli.experiments.tune.remote import RemoteFolds

        remote = RemoteFolds(ctx.client, ds.schema, ds.X, ctx.y, ctx.splits, ctx.classes)
    search = Search(folds, config, space, point, deadline, progress, want_pred=True, remote=remote)  # OOF: ensemble
    link = _link(ctx, prefix, cand, config, space, seed, search)
    prior = link.prior if link is not None else []
    trials = None if req.trials is None else req.trials + (0 if prior else 1)  # trial 0 repeats the candidate
    ctx.notify(f"tuning {cand.label}: {', '.join(sorted(space))}"
               + (f", {req.trials} trial(s)" if req.trials else f", {max(deadline - time.perf_counter(), 0):.0f} s"))
    rows = search.run(trials, seed, PRUNE_AFTER, link)
    if search.interrupted and ctx.signals:  # else a fit stopped at the deadline (CatBoost raises KeyboardInterrupt)
        ctx.interrupted = True
    joined = _join(ctx, cand, config, rows, search)
    if link is not None:
        _keep_predictions(ctx, link, {n: search.outputs[n] for n in joined if n in search.outputs})
    done = [r for r in rows if r.state == "complete"]
    base = next((r for r in done if r.default), None)
    best = max(done, key=lambda r: r.mean if folds.higher else -r.mean, default=None)
    return {"candidate": cand.label, "model": cand.model, "trials": len(rows),
            "complete": len(done), "pruned": sum(r.state == "pruned" for r in rows),
            "failed": sum(r.state == "failed" for r in rows), "timed_out": search.timed_out,
            "start_score": base.mean if base else None, "best_score": best.mean if best else None,
            "best_trial": None if best is None or best.default else f"{cand.label}~t{best.number}",
            **({"study": link.name, "resumed_trials": len(prior)} if link is not None else {})}


def _keep_predictions(ctx: Any, link: StudyLink, outputs: dict[int, dict[int, ex.FoldResult]]) -> None:
    from mlcli.experiments.tune.store import save_predictions

    try:
        save_predictions(link.path, link.name, outputs)
    except OSError as exc:
        link.error = link.error or f"{exc.strerror or exc}"
    if link.error:
        ctx.notify.warn(f"the trials of {link.name} were not all kept for --resume: {link.error}")


def _join(ctx: Any, cand: AutoCandidate, config: Any, rows: list[TrialRow], search: Search) -> list[int]:
    """Complete trials (not trial 0) as leaderboard candidates; out-of-fold predictions for the best few.
    Returns the trials that joined."""
    done = [r for r in rows if r.state == "complete" and not r.default]
    sign = 1.0 if higher_is_better(ctx.metric) else -1.0
    best = sorted(done, key=lambda r: (-sign * r.mean, r.number))[:KEEP]
    for row in best:
        params = {**config.params, **row.params}
        results = search.outputs.get(row.number, {})
        name = f"{cand.label}~t{row.number}"
        auto = AutoCandidate(cand.model, tuple(params.items()), name=name, tier="tuned",
                             why=f"trial {row.number} of the search from {cand.label}")
        ctx.tried.add(auto, replace(config, params=params, n_threads=ctx.threads), results)
    return [r.number for r in best]
