"""The end of an auto run: the ensemble (step 3), the leaderboard of everything tried, the final model (step 4)
and the result document (JSON when piped, a table on a terminal, in the bundle)."""

from __future__ import annotations

import time
from typing import Any

from mlcli.errors import ConfigError
from mlcli.evaluation.metrics import higher_is_better
from mlcli.experiments.auto import ensemble as E
from mlcli.experiments.auto.board import ENSEMBLE, Choice, add_ensemble, choose_ensemble, finite, is_baseline, row_dict
from mlcli.experiments.auto.request import Preset
from mlcli.experiments.cv.leaderboard import ALPHA, Row


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
    doc = document(ctx, preset, tuning, choice)
    if ctx.req.out:
        ctx.phase("final")
        if choice is None:
            raise ConfigError("no model finished its folds within the time limit, so there is nothing to save with "
                              "--out; give a larger --time-limit")
        try:
            from mlcli.experiments.auto.final import save_final

            doc["saved"], final_s = save_final(ctx, choice, doc)
            doc["budget"]["final_s"] = round(final_s, 3)
        except KeyboardInterrupt:  # the bundle write is atomic: nothing half-written is left
            doc["interrupted"] = True
    doc["seconds"] = round(budget.used(), 3)
    return doc


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
        "interrupted": ctx.interrupted, "saved": None, "seconds": None,
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
