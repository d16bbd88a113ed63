"""The end of an auto run: the ensemble (step 3), the leaderboard of everything tried, the final model (step 4)
and the result document (JSON when piped, a table on a terminal, in the bundle)."""

from __future__ import annotations

import time
from typing import Any

from mlcli.errors import ConfigError
from mlcli.evaluation.metrics import higher_is_better
from mlcli.experiments.auto import ensemble as E
from mlcli.experiments.auto.board import ENSEMBLE, Choice, add_ensemble, choose_ensemble, finite, is_baseline, row_dict
from mlcli.experiments.auto.request import CANDIDATE_SHARE, TUNE_SHARE, Budget, Preset
from mlcli.experiments.cv.leaderboard import ALPHA, Row
from mlcli.experiments.cv.request import MAX_SECONDS, round_seconds


def finish(ctx: Any, preset: Preset, tuning: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Ensemble, leaderboard, final model (with --out); the result document."""
    budget, task = ctx.budget, ctx.ds.task
    t = time.perf_counter()
    ctx.phase("ensemble")
    found = None
    try:
        seconds = max(budget.start + budget.limit - budget.final_s - t, 1.0)  # the final fits keep their share
        found = choose_ensemble(ctx.tried, ctx.y, task, ctx.metric, ctx.k, seconds, ctx.req.seed,
                                ctx.req.guard)
    except KeyboardInterrupt:
        ctx.interrupted = True
    choice = found[0] if found else None
    if found:
        add_ensemble(ctx.tried, choice, found[1], ctx.y, task, ctx.k)
    budget.mark("ensemble", t)
    if not ctx.interrupted and not _finished(ctx):  # an interrupt keeps its exit code (130/143), whatever finished
        raise nothing_finished(ctx)
    doc = document(ctx, preset, tuning, choice)
    if ctx.req.out and (choice is not None or not ctx.interrupted):
        ctx.phase("final")
        if choice is None:
            raise ConfigError("no finished model gave out-of-fold predictions to choose an ensemble from, so there is "
                              "nothing to save with --out")
        try:
            from mlcli.experiments.auto.final import save_final

            doc["saved"], final_s = save_final(ctx, choice, doc)
            doc["budget"]["final_s"] = round(final_s, 3)
        except KeyboardInterrupt:  # the bundle write is atomic: nothing half-written is left
            doc["interrupted"] = True
    if ctx.req.test_path and doc.get("saved"):
        from mlcli.experiments.auto.testfile import score_test_file

        req = ctx.req
        doc["test_file"] = score_test_file(doc["saved"], req.test_path, ctx.metric, req.data.sep, req.data.encoding,
                                      ctx.notify)
    doc["seconds"] = round(budget.used(), 3)
    return doc


def _finished(ctx: Any) -> bool:
    """Whether a model (not the baseline) finished every fold."""
    return any(ctx.tried.complete(ci) for ci, c in enumerate(ctx.tried.candidates)
               if c.model != ENSEMBLE and not is_baseline(c))


def nothing_finished(ctx: Any) -> ConfigError:
    """The one line when no model finished: every candidate failed (as cv says it), or the time limit was too
    short, with a rough lower bound of the limit this data needs (:func:`needed_limit`)."""
    tried = ctx.tried
    models = {ci for ci, c in enumerate(tried.candidates) if c.model != ENSEMBLE and not is_baseline(c)}
    results = [(ci, r) for (ci, _), r in sorted(tried.results.items()) if ci in models]
    failed = [(tried.candidates[ci].label, r.error) for ci, r in results if r.status == "failed" and r.error]
    base = {c.label for c in tried.candidates if is_baseline(c)}
    short = any(r.status == "timeout" for _, r in results) or any(s["name"] not in base for s in ctx.skipped)
    if failed and not short:
        label, error = failed[0]
        return ConfigError(f"every candidate failed; {label}: {error}")
    limit = ctx.budget.limit
    return ConfigError(f"no model finished within --time-limit {limit:g} s: give a larger --time-limit (at least "
                       f"~{needed_limit(ctx):g} s for this data)")


def needed_limit(ctx: Any) -> float:
    """A rough lower bound of the time limit under which the cheapest candidate could finish its folds: the
    seconds before the search, then that candidate's expected wall time (a skipped one's estimate, or what a
    timed-out one ran, scaled to all its folds), within the share of the search one candidate may take and
    the reserve kept for the ensemble; rounded up to a round number above the limit given."""
    tried, n, jobs = ctx.tried, len(ctx.splits), max(ctx.jobs, 1)
    base = {c.label for c in tried.candidates if is_baseline(c)}
    walls = [s["expected_s"] for s in ctx.skipped if s["name"] not in base]
    for ci, cand in enumerate(tried.candidates):
        ran = [r.seconds for (c, _), r in tried.results.items()
               if c == ci and r.status in ("ok", "timeout") and r.seconds > 0]
        if ran and cand.model != ENSEMBLE and not is_baseline(cand):
            walls.append(sum(ran) / len(ran) * n / jobs)
    wall = min(walls, default=0.0)
    share = CANDIDATE_SHARE * (TUNE_SHARE if ctx.tune else 1.0)
    search = max(ctx.budget.phases.get("data and checks", 0.0) + wall, wall / share)
    limit = ctx.budget.limit
    for seconds in round_seconds():
        if seconds > 1.4 * limit and seconds - Budget(seconds, start=0.0).reserve >= search:
            return seconds
    return float(MAX_SECONDS)


def _weights(choice: Choice | None) -> dict[str, float]:
    return dict(zip(choice.names, choice.weights)) if choice is not None else {}


def document(ctx: Any, preset: Preset, tuning: list[dict[str, Any]] | None, choice: Choice | None
             ) -> dict[str, Any]:
    ds, metric = ctx.ds, ctx.metric
    rows = ctx.tried.rows(ds.task, metric, ctx.interrupted)
    board = [row_dict(r, metric, _weights(choice)) for r in rows]
    best = next((r for r in board if r["best"]), None)
    warnings = [f"{r['name']}: {r['error']}" for r in board if r["status"] == "failed" and r.get("error")]
    return {
        "command": "auto", "data": ds.source, "task": ds.task, "target": ds.schema.target, "rows": len(ds.frame),
        "dropped_missing_target": ds.dropped_rows, "metric": metric, "higher_is_better": higher_is_better(metric),
        "preset": preset.name, "tuned": ctx.tune, "folds": len(ctx.splits), "splits": len(ctx.splits), "repeats": 1,
        "stratified": ds.task != "regression", "seed": ctx.req.seed,
        "test": {"name": "corrected resampled t-test (Nadeau & Bengio 2003)", "alpha": ALPHA},
        "best": best["name"] if best else None,
        "leaderboard": board,
        "ensemble": _ensemble(ctx, rows, choice),
        "best_single": _single(ctx, rows, lambda r: not is_baseline(r.candidate)),
        "baseline": _single(ctx, rows, lambda r: is_baseline(r.candidate)),
        "budget": _budget(ctx, rows, tuning),
        "tuning": tuning,
        "parallel": {"jobs": ctx.jobs, "threads_per_model": ctx.threads, "scheduler": ctx.req.scheduler},
        "scheduler": ctx.req.scheduler,
        "interrupted": ctx.interrupted, "saved": None, "test_file": None, "seconds": None,
        "columns": [c.to_dict() for c in ds.schema.columns],
        "warnings": ctx.findings.warnings + warnings, "leaks": ctx.findings.leaks,
        "duplicates": ctx.findings.duplicates,
    }


def _ensemble(ctx: Any, rows: list[Row], choice: Choice | None) -> dict[str, Any] | None:
    if choice is None:
        return None
    row = next(r for r in rows if r.candidate.model == ENSEMBLE)
    return {"members": [{"name": n, "weight": round(w, 6)} for n, w in zip(choice.names, choice.weights)],
            "combiner": "stacker" if choice.stacker is not None else "weighted average",
            "score": row.score(ctx.metric), "score_std": row.std.get(ctx.metric), "rank": row.rank,
            "vs_best": row.vs_best, "oof_score": finite(choice.oof_score),
            "greedy_oof_score": finite(choice.greedy_score), "stacker_oof_score": finite(choice.stacker_score),
            "rounds": choice.rounds, "seconds": round(choice.seconds, 3), "guard": choice.guard,
            "final": None if not ctx.req.out else ("refit" if ctx.req.refit else "bagged")}


def _single(ctx: Any, rows: list[Row], keep: Any) -> dict[str, Any] | None:
    """The best ranked row that ``keep`` accepts (not the ensemble), with its pooled out-of-fold score."""
    row = next((r for r in rows if r.rank is not None and r.candidate.model != ENSEMBLE and keep(r)), None)
    if row is None:
        return None
    ci = ctx.tried.index(row.candidate.label)
    out = ctx.tried.oof(ci, len(ctx.y), ctx.ds.task, ctx.k)
    oof = None if out is None else finite(E.oof_score(ctx.y, out, ctx.ds.task, ctx.metric))
    return {"name": row.candidate.label, "model": row.candidate.model, "score": row.score(ctx.metric),
            "score_std": row.std.get(ctx.metric), "oof_score": oof, "rank": row.rank}


def _budget(ctx: Any, rows: list[Row], tuning: list[dict[str, Any]] | None) -> dict[str, Any]:
    """What the time limit allowed, and whether it decided what ran (``binding``: then a rerun may differ)."""
    out = ctx.budget.to_dict()
    timed_out = [r.candidate.label for r in rows if r.status == "timeout"]
    tuned = tuning or []
    by_time = ctx.req.trials is None and any("trials" in t for t in tuned)
    binding = bool(ctx.skipped or timed_out or by_time or any(t.get("timed_out") for t in tuned)
                   or any("skipped" in t and "left" in t["skipped"] for t in tuned))
    out.update(candidates=ctx.n_candidates, tried=sum(1 for r in rows if r.candidate.tier not in (ENSEMBLE, "tuned")),
               skipped=ctx.skipped, timed_out=timed_out, binding=binding, final_s=None)
    return out
