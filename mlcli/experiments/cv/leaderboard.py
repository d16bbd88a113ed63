"""The leaderboard: per-candidate summaries, ranks, and the corrected resampled t-test against the best."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.schema import Schema
from mlcli.evaluation.metrics import higher_is_better
from mlcli.experiments.checks import Findings
from mlcli.experiments.cv.execution import FoldResult
from mlcli.experiments.cv.request import Candidate

ALPHA = 0.05  # significance level of the corrected resampled t-test


def corrected_ttest(a: list[float], b: list[float], test_train_ratio: float) -> tuple[float, float] | None:
    """Nadeau & Bengio's corrected resampled t-test of paired fold scores: (t, two-sided p), None if < 2 pairs.

    The variance of the mean difference is inflated from 1/J to (1/J + n_test/n_train) because training
    sets of different folds overlap, which the plain paired t-test ignores (it is far too eager).
    """
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(d)
    if n < 2:
        return None
    mean = float(d.mean())
    var = float(d.var(ddof=1))
    if var <= 1e-24:
        return (0.0, 1.0) if abs(mean) <= 1e-12 else (math.copysign(math.inf, mean), 0.0)
    t = mean / math.sqrt((1.0 / n + test_train_ratio) * var)
    return t, float(2.0 * stats.t.sf(abs(t), n - 1))


@dataclass
class Row:
    candidate: Candidate
    status: str  # ok | timeout | failed | interrupted
    folds_done: int
    scores: list[float | None]  # the sort metric per split (None where the split did not finish)
    mean: dict[str, float | None]
    std: dict[str, float | None]
    train_mean: dict[str, float | None] | None
    train_std: dict[str, float | None] | None
    fit_s: float | None
    predict_s: float | None
    seconds: float
    error: str = ""
    rank: int | None = None
    best: bool = False
    vs_best: dict[str, Any] | None = None
    rounds: list[int] = field(default_factory=list)  # boosting rounds early stopping kept, per finished fold

    def score(self, metric: str) -> float | None:
        return self.mean.get(metric)

    @property
    def early_stopping(self) -> dict[str, Any] | None:
        """The rounds early stopping kept over the folds (median, least, most), or None."""
        if not self.rounds:
            return None
        return {"rounds_median": int(np.median(self.rounds)), "rounds_min": min(self.rounds),
                "rounds_max": max(self.rounds), "folds": len(self.rounds)}

    def to_dict(self, metric: str) -> dict[str, Any]:
        d: dict[str, Any] = {
            "rank": self.rank, "name": self.candidate.label, "model": self.candidate.model,
            "balance": self.candidate.balance,
            "params": dict(self.candidate.point), "best": self.best, "status": self.status,
            "folds": self.folds_done, "metric": metric, "score": self.mean.get(metric),
            "score_std": self.std.get(metric), "mean": self.mean, "std": self.std,
        }
        if self.train_mean is not None:
            d["train_mean"] = self.train_mean
            d["train_std"] = self.train_std
        d.update(fit_s=self.fit_s, predict_s=self.predict_s, seconds=round(self.seconds, 3),
                 vs_best=self.vs_best, fold_scores=self.scores, early_stopping=self.early_stopping)
        if self.error:
            d["error"] = self.error
        return d


@dataclass
class CVResult:
    source: str
    schema: Schema
    n_rows: int
    dropped_rows: int
    metric: str
    folds: int
    repeats: int
    groups: str | None
    seed: int
    jobs: int
    threads: int
    scheduler: str | None
    splits: int
    rows: list[Row]
    grid: dict[str, list[Any]]
    n_fits: int
    n_done: int
    interrupted: bool
    seconds: float
    oof: pd.DataFrame | None = None
    saved: str | None = None
    warnings: list[str] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)
    learning_curve: dict[str, Any] | None = None  # cv --learning-curve (mlcli.experiments.cv.learning)
    calibrate: str | None = None  # cv --calibrate: the method every model that does not calibrate itself used

    @property
    def best(self) -> Row | None:
        return next((r for r in self.rows if r.best), None)

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "command": "cv", "data": self.source, "task": self.schema.task, "target": self.schema.target,
            "rows": self.n_rows, "dropped_missing_target": self.dropped_rows,
            "metric": self.metric, "higher_is_better": higher_is_better(self.metric),
            "folds": self.folds, "repeats": self.repeats, "splits": self.splits, "groups": self.groups,
            "stratified": self.schema.task != "regression", "seed": self.seed, "calibrate": self.calibrate,
            "test": {"name": "corrected resampled t-test (Nadeau & Bengio 2003)", "alpha": ALPHA},
            "best": best.candidate.label if best else None,
            "leaderboard": [r.to_dict(self.metric) for r in self.rows],
            "grid": self.grid or None,
            "parallel": {"jobs": self.jobs, "threads_per_model": self.threads, "scheduler": self.scheduler},
            "fits": {"total": self.n_fits, "done": self.n_done},
            "interrupted": self.interrupted, "saved": self.saved, "seconds": round(self.seconds, 3),
            "columns": [c.to_dict() for c in self.schema.columns],
            "warnings": self.findings.warnings + self.warnings, "leaks": self.findings.leaks,
            "duplicates": self.findings.duplicates, "learning_curve": self.learning_curve,
        }


def _summary(values: list[dict[str, Any]], names: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    mean: dict[str, Any] = {}
    std: dict[str, Any] = {}
    for name in names:
        xs = [v[name] for v in values if v.get(name) is not None]
        mean[name] = round(float(np.mean(xs)), 6) if xs else None
        std[name] = round(float(np.std(xs, ddof=1)), 6) if len(xs) > 1 else (0.0 if xs else None)
    return mean, std


def build_rows(candidates: list[Candidate], results: dict[tuple[int, int], FoldResult], n_splits: int,
               names: list[str], metric: str, ratio: float, interrupted: bool) -> list[Row]:
    rows: list[Row] = []
    for ci, cand in enumerate(candidates):
        done = [results.get((ci, si)) for si in range(n_splits)]
        ok = [r for r in done if r is not None and r.status == "ok"]
        bad = next((r for r in done if r is not None and r.status in ("timeout", "failed")), None)
        seconds = sum(r.seconds for r in done if r is not None)
        if bad is not None:
            status = "timeout" if bad.status == "timeout" else "failed"
        elif len(ok) < n_splits:
            status = "interrupted" if interrupted else "failed"
        else:
            status = "ok"
        usable = status in ("ok", "interrupted") and ok
        mean, std = _summary([r.metrics for r in ok], names) if usable else ({n: None for n in names},) * 2
        train = [r.train_metrics for r in ok if r.train_metrics is not None]
        train_mean, train_std = _summary(train, names) if (usable and train) else (None, None)
        scores = [(r.metrics or {}).get(metric) if r is not None and r.status == "ok" else None for r in done]
        rows.append(Row(cand, status, len(ok), scores if usable else [None] * n_splits, mean, std,
                        train_mean, train_std,
                        round(float(np.mean([r.fit_s for r in ok])), 4) if ok else None,
                        round(float(np.mean([r.predict_s for r in ok])), 4) if ok else None,
                        seconds, bad.error if bad is not None else "",
                        rounds=[r.rounds for r in ok if r.rounds]))
    sign = 1.0 if higher_is_better(metric) else -1.0

    def key(row: Row) -> tuple:
        s = row.score(metric)
        return (row.status not in ("ok", "interrupted"), s is None, -sign * s if s is not None else 0.0)

    rows.sort(key=key)  # stable: ties keep the order the models were given in
    ranked = [r for r in rows if r.status in ("ok", "interrupted") and r.score(metric) is not None]
    for i, r in enumerate(ranked, 1):
        r.rank = i
    if ranked:
        best = ranked[0]
        best.best = True
        for r in ranked[1:]:
            pairs = [(a, b) for a, b in zip(r.scores, best.scores) if a is not None and b is not None]
            test = corrected_ttest([a for a, _ in pairs], [b for _, b in pairs], ratio)
            diff = round(float(np.mean([a - b for a, b in pairs])), 6) if pairs else None
            if test is None:
                r.vs_best = {"diff": diff, "t": None, "p": None, "within_noise": None, "pairs": len(pairs)}
            else:
                t, p = test
                r.vs_best = {"diff": diff, "t": round(t, 4) if math.isfinite(t) else None, "p": round(p, 6),
                             "within_noise": bool(p >= ALPHA), "pairs": len(pairs)}
    return rows
