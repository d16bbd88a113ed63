"""The tune result document: every trial, the best one, and its gain over the model's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlcli.data.schema import Schema
from mlcli.evaluation.metrics import higher_is_better
from mlcli.experiments.checks import Findings
from mlcli.experiments.tune.search import TrialRow

STATES = ("complete", "pruned", "failed", "timeout", "interrupted")


def trial_dict(row: TrialRow) -> dict[str, Any]:
    d: dict[str, Any] = {"trial": row.number, "default": row.default, "params": row.params, "state": row.state,
                         "score": row.mean, "score_std": row.std, "folds": len(row.scores),
                         "fold_scores": [round(s, 6) for s in row.scores], "seconds": round(row.seconds, 3)}
    if row.rounds:
        d["rounds_median"] = int(np.median(row.rounds))
    if row.error:
        d["error"] = row.error
    return d


def mean_metrics(row: TrialRow) -> dict[str, Any]:
    """Every metric of the trial, averaged over its folds."""
    names = list(row.metrics[0]) if row.metrics else []
    out = {}
    for name in names:
        xs = [m[name] for m in row.metrics if m.get(name) is not None]
        out[name] = round(float(np.mean(xs)), 6) if xs else None
    return out


@dataclass
class TuneResult:
    source: str
    schema: Schema
    n_rows: int
    dropped_rows: int
    model: str
    metric: str
    folds: int
    repeats: int
    splits: int
    groups: str | None
    seed: int
    threads: int
    space: dict[str, str]  # searched key -> its range, as a person reads it
    fixed: dict[str, Any]  # the user's --param values (out of the search)
    trials_asked: int | None
    time_limit: float | None
    rows: list[TrialRow]
    best: TrialRow | None
    baseline_score: float | None
    interrupted: bool = False
    timed_out: bool = False
    seconds: float = 0.0
    saved: str | None = None
    study: str | None = None  # the kept study's name (for --resume)
    resumed: int = 0  # trials of the kept study this run continued
    scheduler: str | None = None  # the Dask cluster the folds ran on
    findings: Findings = field(default_factory=Findings)
    warnings: list[str] = field(default_factory=list)

    @property
    def default(self) -> TrialRow | None:
        return next((r for r in self.rows if r.default), None)

    @property
    def gain(self) -> float | None:
        """How much the best trial beats the defaults on the metric (positive: better, whatever its direction)."""
        best, default = self.best, self.default
        if best is None or default is None or best.mean is None or default.mean is None or default.state != "complete":
            return None
        diff = best.mean - default.mean
        return round(diff if higher_is_better(self.metric) else -diff, 6)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for r in self.rows if r.state == s) for s in STATES}

    def best_dict(self) -> dict[str, Any] | None:
        best = self.best
        if best is None:
            return None
        return {"trial": best.number, "default": best.default, "params": best.params, "score": best.mean,
                "score_std": best.std, "folds": len(best.scores), "mean": mean_metrics(best)}

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        best = self.best_dict()
        return {
            "command": "tune", "data": self.source, "task": self.schema.task, "target": self.schema.target,
            "rows": self.n_rows, "dropped_missing_target": self.dropped_rows, "model": self.model,
            "metric": self.metric, "higher_is_better": higher_is_better(self.metric), "folds": self.folds,
            "repeats": self.repeats, "splits": self.splits, "groups": self.groups,
            "stratified": self.schema.task != "regression", "seed": self.seed, "threads": self.threads,
            "space": self.space, "fixed_params": self.fixed, "trials_asked": self.trials_asked,
            "time_limit": self.time_limit, "best": best,
            "default_score": default.mean if default is not None and default.state == "complete" else None,
            "default_score_std": default.std if default is not None else None,
            "gain": self.gain, "baseline_score": self.baseline_score,
            "trials": [trial_dict(r) for r in self.rows], "counts": self.counts(),
            "metrics": best["mean"] if best else {}, "bundle": self.saved, "saved": self.saved,
            "interrupted": self.interrupted, "timed_out": self.timed_out, "seconds": round(self.seconds, 3),
            "study": self.study, "resumed_trials": self.resumed, "scheduler": self.scheduler,
            "columns": [c.to_dict() for c in self.schema.columns],
            "warnings": self.findings.warnings + self.warnings, "leaks": self.findings.leaks,
            "duplicates": self.findings.duplicates,
        }
