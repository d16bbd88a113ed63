"""Everything an auto run tried, as cv's leaderboard rows: the portfolio's candidates, the tuned trials, the
baseline and the ensemble, each with its fold results on the same folds.

The ensemble's row is scored like every other row: its out-of-fold prediction (the greedy blend, or the
stacker's inner cross-validated prediction) is cut at the same folds and measured per fold, so it has a mean,
a spread and a corrected t-test against the best. Its weights were chosen on those same out-of-fold rows, so
its score is a little optimistic (greedy selection with few rounds keeps the bias small; Caruana et al. 2004).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mlcli.evaluation import metrics as M
from mlcli.evaluation.scoring import decide
from mlcli.experiments.auto import ensemble as E
from mlcli.experiments.cv.execution import FoldResult
from mlcli.experiments.cv.folds import Split
from mlcli.experiments.cv.leaderboard import Row, build_rows
from mlcli.experiments.cv.request import Candidate
from mlcli.models.build import ModelConfig
from mlcli.models.registry import get_spec

ENSEMBLE = "ensemble"


@dataclass(frozen=True)
class AutoCandidate(Candidate):
    """A cv candidate with auto's own name (``lightgbm#flaml1``), tier and reason."""

    name: str = ""
    tier: str = "default"
    why: str = ""

    @property
    def label(self) -> str:
        return self.name or super().label


@dataclass
class Tried:
    """The candidates that ran, their configurations and fold results (keys: (candidate index, split))."""

    splits: list[Split]
    candidates: list[AutoCandidate] = field(default_factory=list)
    configs: list[ModelConfig | None] = field(default_factory=list)
    results: dict[tuple[int, int], FoldResult] = field(default_factory=dict)

    def add(self, cand: AutoCandidate, config: ModelConfig | None, results: dict[int, FoldResult]) -> int:
        ci = len(self.candidates)
        self.candidates.append(cand)
        self.configs.append(config)
        for si, res in results.items():
            self.results[(ci, si)] = replace(res, candidate=ci, split=si)
        return ci

    def index(self, label: str) -> int:
        return next(i for i, c in enumerate(self.candidates) if c.label == label)

    def complete(self, ci: int) -> bool:
        return all((r := self.results.get((ci, si))) is not None and r.status == "ok" for si in range(len(self.splits)))

    def oof(self, ci: int, n_rows: int, task: str, k: int) -> np.ndarray | None:
        """The candidate's out-of-fold probabilities or values, or None unless every fold gave them."""
        if not self.complete(ci):
            return None
        out = np.zeros(n_rows) if task == "regression" else np.zeros((n_rows, k))
        for si, split in enumerate(self.splits):
            res = self.results[(ci, si)]
            part = res.pred if task == "regression" else res.proba
            if part is None:
                return None
            out[split.test] = part
        return out

    def rows(self, task: str, metric: str, interrupted: bool = False) -> list[Row]:
        ratio = float(np.mean([len(s.test) / len(s.train) for s in self.splits]))
        return build_rows(self.candidates, self.results, len(self.splits), M.metric_names(task), metric, ratio,
                          interrupted)


def is_baseline(cand: Candidate) -> bool:
    return cand.model != ENSEMBLE and get_spec(cand.model).baseline


@dataclass
class Choice:
    """The ensemble chosen on the out-of-fold predictions."""

    names: list[str]  # the members, in the order the final model holds them
    weights: list[float]  # greedy weights (equal when the stacker combines them)
    greedy_score: float  # pooled out-of-fold score of the greedy blend
    stacker: Any = None  # a fitted stacker when it beat the greedy blend on inner cross-validation
    stacker_score: float | None = None
    oof_score: float = math.nan  # pooled out-of-fold score of what the final model predicts
    best_single: str = ""
    best_single_oof: float = math.nan
    rounds: int = 0
    seconds: float = 0.0
    guard: dict[str, Any] | None = None  # the check against the best default model (see guard_choice)


def choose_ensemble(tried: Tried, y: np.ndarray, task: str, metric: str, k: int, seconds: float,
                    seed: int, guard: bool = True) -> tuple[Choice, np.ndarray] | None:
    """Greedy selection (with replacement) over every complete candidate but the baseline, then the stacker
    over the chosen members if its inner cross-validated score beats the blend; None when nothing finished.
    With ``guard``, the best default model instead unless the selection beats it on rows it did not choose on
    (:func:`guard_choice`). ``seconds``: the time it may take (fewer rounds when the candidates are many and
    the rows large; the check costs about two selections more)."""
    t0 = time.perf_counter()
    oof = {}
    for ci, cand in enumerate(tried.candidates):
        if cand.model == ENSEMBLE or is_baseline(cand):
            continue
        out = tried.oof(ci, len(y), task, k)
        if out is not None:
            oof[cand.label] = out
    if not oof:
        return None
    first = next(iter(oof.values()))
    t1 = time.perf_counter()
    E.oof_score(y, first, task, metric)
    one = max(time.perf_counter() - t1, 1e-5)
    rounds = int(max(2, min(E.ROUNDS, seconds / (4 * one * len(oof)))))  # the selection, its check, the stacker
    sel = E.select_ensemble(oof, y, task, metric, rounds)
    names = sel.members
    choice = Choice(names, [sel.weights[n] for n in names], sel.score, oof_score=sel.score,
                    best_single=sel.best_single, best_single_oof=sel.best_single_score, rounds=len(sel.history))
    prediction = sel.prediction
    left = seconds / 2 - (time.perf_counter() - t0)  # the other half is the check's (about two selections)
    stacked = E.fit_stacker({n: oof[n] for n in names}, y, task, metric, seed=seed, seconds=max(left, 0.0)
                            ) if len(names) >= 2 else None
    if stacked is not None:
        choice.stacker_score = stacked.score
        if E.stacker_wins(stacked, sel):
            choice.stacker, choice.oof_score, prediction = stacked.model, stacked.score, stacked.prediction
            choice.weights = [1.0 / len(names)] * len(names)
    choice, prediction = guard_choice(choice, prediction, oof, y, task, metric, seed, guard, rounds)
    choice.seconds = time.perf_counter() - t0
    return choice, prediction


def is_default(label: str) -> bool:
    """Whether a portfolio candidate is a model at its registry defaults (``CatBoost#default``): what ``cv``
    compares and ``cv --save-best`` would pick."""
    return label.endswith("#default")


def guard_choice(choice: Choice, prediction: np.ndarray, oof: dict[str, np.ndarray], y: np.ndarray, task: str,
                 metric: str, seed: int, guard: bool = True, rounds: int = E.ROUNDS) -> tuple[Choice, np.ndarray]:
    """A check against the winner's curse: the ensemble's weights, and the best of many candidates, were chosen
    on the out-of-fold rows they are scored on, so its lead over the best model at its defaults is partly luck.
    :func:`ensemble.crossfit_gain` measures the lead on rows the selection did not see (made on one half of the
    rows, scored on the other against the best default model, the one chosen on all rows that would otherwise
    be the final model); the ensemble replaces it only when that gain, averaged, is positive. ``choice.guard``
    records the check (``guard=False``: recorded, not acted on)."""
    defaults = {n: out for n, out in oof.items() if is_default(n)}
    if not defaults:
        return choice, prediction
    ref = E.best_of(defaults, y, task, metric)
    ref_score = E.oof_score(y, defaults[ref], task, metric)
    sign = 1.0 if M.higher_is_better(metric) else -1.0
    in_sample = sign * (choice.oof_score - ref_score)
    if choice.names == [ref] and choice.stacker is None:
        choice.guard = {"reference": ref, "gain": 0.0, "in_sample_gain": 0.0, "halves": [], "kept": True,
                        "acted": False}
        return choice, prediction
    halves = E.crossfit_gain(oof, y, task, metric, ref, rounds, seed=seed)
    gain = float(np.mean(halves)) if halves else math.nan
    kept = bool(halves) and gain > 0
    choice.guard = {"reference": ref, "gain": finite(gain), "in_sample_gain": finite(in_sample),
                    "halves": [round(g, 6) for g in halves], "kept": kept, "acted": guard and not kept}
    if kept or not guard:
        return choice, prediction
    choice.guard.update(ensemble=[[n, round(w, 6)] for n, w in zip(choice.names, choice.weights)],
                        ensemble_oof_score=finite(choice.oof_score))
    fallback = Choice([ref], [1.0], ref_score, oof_score=ref_score, best_single=choice.best_single,
                      best_single_oof=choice.best_single_oof, rounds=choice.rounds, guard=choice.guard)
    return fallback, defaults[ref]


def fold_results(prediction: np.ndarray, y: np.ndarray, splits: list[Split], task: str, k: int
                 ) -> dict[int, FoldResult]:
    """Fold results of an out-of-fold prediction, measured per fold as run_fold measures a model."""
    out = {}
    for si, split in enumerate(splits):
        part, truth = prediction[split.test], y[split.test]
        if task == "regression":
            metrics = M.regression_metrics(truth, part)
        else:
            metrics = M.classification_metrics(truth, decide(part, task, 0.5), part, k)
        out[si] = FoldResult(0, si, "ok", metrics)
    return out


def add_ensemble(tried: Tried, choice: Choice, prediction: np.ndarray, y: np.ndarray, task: str, k: int) -> int:
    point = tuple((n, round(w, 4)) for n, w in zip(choice.names, choice.weights))
    why = "stacker over the members" if choice.stacker is not None else "greedy weights"
    if choice.guard and choice.guard["acted"]:
        why = "the best default model: the ensemble did not beat it on rows its selection did not see"
    cand = AutoCandidate(ENSEMBLE, point, name=ENSEMBLE, tier=ENSEMBLE, why=why)
    return tried.add(cand, None, fold_results(prediction, y, tried.splits, task, k))


def row_dict(row: Row, metric: str, weights: dict[str, float]) -> dict[str, Any]:
    d = row.to_dict(metric)
    cand = row.candidate
    d["tier"] = getattr(cand, "tier", "")
    d["why"] = getattr(cand, "why", "")
    if cand.model == ENSEMBLE:
        d["params"] = {}
        d["members"] = [{"name": n, "weight": w} for n, w in cand.point]
    d["weight"] = weights.get(cand.label, 0.0)
    return d


def finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)
