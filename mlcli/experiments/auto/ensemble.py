"""Ensembles chosen on out-of-fold predictions: Caruana et al.'s greedy selection, and a stacker.

:func:`select_ensemble` is ensemble selection (Caruana, Niculescu-Mizil, Crew & Ksikes, ICML 2004): start
from the best single candidate, then in each round add the candidate (any, again and again: selection with
replacement) whose addition to the running average of predictions scores best, and stop after a fixed number
of rounds or when no addition improves the score. A candidate's weight is the number of times it was added
over the total, so the ensemble's out-of-fold score is never below the best single candidate's.

:func:`fit_stacker` fits a regularised logistic regression (classification) or ridge regression on the
candidates' out-of-fold predictions (:func:`mlcli.models.ensemble.stack_features`); its score comes from an
inner cross-validation over those rows, so it is never scored on rows it was fitted on. Use it only when
:func:`stacker_wins`.

Candidates' predictions are class probabilities (n rows x k classes, in class-index order) or values
(regression), for the same rows in the same order; ``y`` holds class indices 0..k-1 or values. Everything
here is deterministic: ties go to the candidate given first.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.errors import ConfigError
from mlcli.evaluation import metrics as M
from mlcli.evaluation.scoring import decide
from mlcli.models.ensemble import average, stack_features

ROUNDS = 40  # rounds of greedy selection (the first one picks the best single candidate)
STACK_FOLDS = 5  # inner folds that score a stacker
STACK_C = 1.0  # the logistic stacker's inverse regularisation strength
STACK_ALPHA = 1.0  # the ridge stacker's regularisation strength
STACK_MAX_ITER = 300  # the logistic stacker's iterations at most (13 classes x 3 members: 11 ms each, 2,923 rows)
PROBE_ITER = 3  # iterations of the fit that times the logistic stacker before it runs
_TOL = 1e-12  # an addition must improve the score by more than this
GUARD_REPEATS = 2  # random halvings behind the cross-fitted check of the selection (crossfit_gain)


@dataclass
class Selection:
    """The outcome of greedy ensemble selection."""

    metric: str
    weights: dict[str, float]  # every candidate's weight (0 for those never chosen); they sum to 1
    score: float  # the ensemble's out-of-fold score
    history: list[float]  # the score after each round (round 1: the best single candidate)
    best_single: str
    best_single_score: float
    prediction: np.ndarray = field(repr=False)  # the ensemble's out-of-fold probabilities or values

    @property
    def members(self) -> list[str]:
        """The chosen candidates (a positive weight), in the order they were given."""
        return [name for name, w in self.weights.items() if w > 0]


@dataclass
class Stacked:
    """A stacker fitted on every out-of-fold row, and its score measured by inner cross-validation."""

    metric: str
    names: list[str]  # the candidates it combines, in the order of its input features
    model: Any  # fitted LogisticRegression / Ridge over stack_features of ``names``' predictions
    score: float
    prediction: np.ndarray = field(repr=False)  # the inner cross-validated probabilities or values


# --------------------------------------------------------------------------------------------- scoring

def _fast_metric(metric: str, y: np.ndarray, out: np.ndarray, task: str, k: int) -> float | None:
    """The metrics greedy selection asks for thousands of times, computed alone (as metrics.py computes them
    among the whole set); None for the others."""
    from sklearn import metrics as m

    if task == "regression":
        err = np.asarray(y, dtype=float) - out
        fast = {"rmse": lambda: math.sqrt(float(np.mean(err ** 2))), "mae": lambda: float(np.mean(np.abs(err))),
                "r2": lambda: float(m.r2_score(y, out))}
        return fast[metric]() if metric in fast else None
    if metric == "roc_auc":
        if task == "binary":
            return float(m.roc_auc_score(y, out[:, 1]))
        return float(m.roc_auc_score(y, out, multi_class="ovr", average="macro", labels=list(range(k))))
    if metric == "log_loss":
        return float(m.log_loss(y, np.clip(out, 1e-15, 1 - 1e-15), labels=list(range(k))))
    pred = decide(out, task, 0.5)
    if metric == "accuracy":
        return float(np.mean(pred == y))
    if metric in ("f1", "f1_macro"):
        average = "binary" if metric == "f1" else "macro"
        return float(m.f1_score(y, pred, average=average, labels=list(range(k)), zero_division=0))
    if metric == "pr_auc" and task == "binary":
        return float(m.average_precision_score(y, out[:, 1]))
    return None


def oof_score(y: np.ndarray, out: np.ndarray, task: str, metric: str) -> float:
    """``metric`` of out-of-fold probabilities (classification, predicting at 0.5 / the most probable class) or
    values, as cv measures it; the worst possible value when it is undefined on these rows."""
    y = np.asarray(y)
    out = np.asarray(out, dtype=float)
    k = out.shape[1] if task != "regression" else 0
    present = task == "regression" or len(np.unique(y)) == k or metric not in ("roc_auc", "pr_auc")
    value = _fast_metric(metric, y, out, task, k) if present else None
    if value is None and present:
        value = (M.regression_metrics(y, out) if task == "regression"
                 else M.classification_metrics(y, decide(out, task, 0.5), out, k)).get(metric)
    if value is None or not math.isfinite(value):
        return -math.inf if M.higher_is_better(metric) else math.inf
    return float(value)


def _better(a: float, b: float, metric: str) -> bool:
    """Whether score ``a`` beats score ``b`` by more than rounding noise."""
    return a - b > _TOL if M.higher_is_better(metric) else b - a > _TOL


def _check(oof: Mapping[str, Any], y: Any, task: str) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    names = list(oof)
    if not names:
        raise ConfigError("ensemble selection needs at least one candidate's out-of-fold predictions")
    y = np.asarray(y)
    outputs = []
    for name in names:
        out = np.asarray(oof[name], dtype=float)
        if task == "regression":
            out = out.ravel()
        if out.shape[0] != len(y) or (task != "regression" and (out.ndim != 2 or out.shape[1] < 2)):
            raise ConfigError(f"the out-of-fold predictions of '{name}' have shape {out.shape}; expected "
                              f"{len(y)} rows" + ("" if task == "regression" else " x one column per class"))
        if not np.all(np.isfinite(out)):
            raise ConfigError(f"the out-of-fold predictions of '{name}' have missing values (a fold failed?)")
        outputs.append(out)
    if len({o.shape for o in outputs}) > 1:
        raise ConfigError("the candidates' out-of-fold predictions have different shapes: "
                          + ", ".join(f"{n} {o.shape}" for n, o in zip(names, outputs)))
    return names, outputs, y


# --------------------------------------------------------------------------------------------- greedy

def select_ensemble(oof: Mapping[str, Any], y: Any, task: str, metric: str | None = None,
                    rounds: int = ROUNDS) -> Selection:
    """Greedy forward selection with replacement over the candidates' out-of-fold predictions (``oof``: name ->
    probabilities or values), optimising ``metric`` (the task's main metric when None)."""
    metric = M.resolve_metric(metric, task)
    if rounds < 1:
        raise ConfigError(f"ensemble selection needs at least 1 round, got {rounds}")
    names, outputs, y = _check(oof, y, task)
    singles = [oof_score(y, out, task, metric) for out in outputs]
    best = 0
    for i, s in enumerate(singles):
        if _better(s, singles[best], metric):
            best = i
    counts = np.zeros(len(names), dtype=int)
    counts[best] = 1
    history = [singles[best]]
    for _ in range(rounds - 1):
        trials = [oof_score(y, average(outputs, counts + np.eye(len(names), dtype=int)[i]), task, metric)
                  for i in range(len(names))]
        pick = 0
        for i, s in enumerate(trials):
            if _better(s, trials[pick], metric):
                pick = i
        if not _better(trials[pick], history[-1], metric):
            break
        counts[pick] += 1
        history.append(trials[pick])
    weights = counts / counts.sum()
    return Selection(metric, {name: float(w) for name, w in zip(names, weights)}, history[-1], history,
                     names[best], singles[best], average(outputs, counts))


def best_of(oof: Mapping[str, np.ndarray], y: np.ndarray, task: str, metric: str) -> str:
    """The name of the candidate with the best score (ties: the first given)."""
    scores = {n: oof_score(y, out, task, metric) for n, out in oof.items()}
    best = next(iter(scores))
    for name, score in scores.items():
        if _better(score, scores[best], metric):
            best = name
    return best


def crossfit_gain(oof: Mapping[str, Any], y: Any, task: str, metric: str, reference: str, rounds: int = ROUNDS,
                  repeats: int = GUARD_REPEATS, seed: int = 0) -> list[float]:
    """How much greedy selection beats the candidate ``reference`` on rows it did not choose on: the out-of-fold
    rows are cut in two halves (stratified for classes), the selection is made on one half and scored against
    the reference on the other, both ways, for ``repeats`` random cuts. The gains (positive: the selection is
    better, whichever way the metric points), one per half scored."""
    names, outputs, y = _check(oof, y, task)
    if reference not in names:
        raise ConfigError(f"the cross-fitted check needs the reference '{reference}' among the candidates")
    sign = 1.0 if M.higher_is_better(metric) else -1.0
    theirs_all = outputs[names.index(reference)]
    gains = []
    for r in range(repeats):
        for chose, scored in _inner_folds(y, task, 2, seed + r):
            sel = select_ensemble({n: out[chose] for n, out in zip(names, outputs)}, y[chose], task, metric, rounds)
            ours = average([out[scored] for out in outputs], [sel.weights[n] for n in names])
            gain = sign * (oof_score(y[scored], ours, task, metric)
                           - oof_score(y[scored], theirs_all[scored], task, metric))
            if math.isfinite(gain):
                gains.append(float(gain))
    return gains


def blend(oof: Mapping[str, Any], weights: Mapping[str, float]) -> np.ndarray:
    """The weighted average of the candidates' predictions (``weights`` by name, normalised to sum to 1)."""
    names = list(weights)
    return average([oof[name] for name in names], [weights[name] for name in names])


# --------------------------------------------------------------------------------------------- stacker

def make_stacker(task: str, seed: int = 0) -> Any:
    """An unfitted stacker: logistic regression (C=STACK_C) for classes, ridge (alpha=STACK_ALPHA) for values."""
    if task == "regression":
        from sklearn.linear_model import Ridge

        return Ridge(alpha=STACK_ALPHA)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=STACK_C, max_iter=STACK_MAX_ITER, random_state=seed)


def _stacker_output(model: Any, features: np.ndarray, task: str, k: int) -> np.ndarray:
    if task == "regression":
        return np.asarray(model.predict(features), dtype=float).ravel()
    proba = np.zeros((features.shape[0], k))
    proba[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(features)
    return proba


def _inner_folds(y: np.ndarray, task: str, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    stratify = task != "regression" and np.bincount(y).min(initial=len(y)) >= folds
    splitter = (StratifiedKFold if stratify else KFold)(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y if stratify else None))


def fit_stacker(oof: Mapping[str, Any], y: Any, task: str, metric: str | None = None, folds: int = STACK_FOLDS,
                seed: int = 0, seconds: float | None = None) -> Stacked | None:
    """A stacker over every candidate in ``oof`` (pass only those the final model will hold), fitted on all
    rows, with its score from ``folds``-fold cross-validation over the out-of-fold rows. With ``seconds``:
    None, nothing fitted, when its fits are expected to take longer (:func:`stacker_seconds`: a logistic
    stacker over many classes that does not converge took 544 s of a 60-second auto run)."""
    metric = M.resolve_metric(metric, task)
    names, outputs, y = _check(oof, y, task)
    if folds < 2 or folds > len(y):
        raise ConfigError(f"the stacker's inner cross-validation needs 2 to {len(y)} folds, got {folds}")
    k = outputs[0].shape[1] if task != "regression" else 0
    features = stack_features(outputs, task)
    if seconds is not None and stacker_seconds(features, y, task, folds) > seconds:
        return None
    inner = np.zeros_like(outputs[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes on a fold: the score below says how it did
        for train, test in _inner_folds(y, task, folds, seed):
            model = make_stacker(task, seed).fit(features[train], y[train])
            inner[test] = _stacker_output(model, features[test], task, k)
        model = make_stacker(task, seed).fit(features, y)
    return Stacked(metric, names, model, oof_score(y, inner, task, metric), inner)


def stacker_seconds(features: np.ndarray, y: np.ndarray, task: str, folds: int = STACK_FOLDS) -> float:
    """The expected seconds of a stacker's fits (``folds`` inner ones and the final one) at the worst case of
    STACK_MAX_ITER iterations, from a fit of PROBE_ITER iterations on all rows; 0 for ridge (one solve)."""
    if task == "regression":
        return 0.0
    from sklearn.linear_model import LogisticRegression

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LogisticRegression(C=STACK_C, max_iter=PROBE_ITER).fit(features, y)
    return (time.perf_counter() - t0) / PROBE_ITER * STACK_MAX_ITER * (folds + 1)


def stacker_wins(stacked: Stacked, selection: Selection) -> bool:
    """Whether the stacker's cross-validated score beats the greedy ensemble's out-of-fold score."""
    if stacked.metric != selection.metric:
        raise ConfigError(f"the stacker was scored in {stacked.metric}, the ensemble in {selection.metric}")
    return _better(stacked.score, selection.score, selection.metric)


# --------------------------------------------------------------------------------------------- cv's oof

def oof_arrays(frame: pd.DataFrame, task: str, classes: list[Any]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """cv's out-of-fold frame (``CVResult.oof``) as (model label -> probabilities or values, y): one row per
    data row (averaged over repeats); models without a prediction for every row are left out."""
    rows = np.sort(frame["row"].unique())
    columns = ["y_pred"] if task == "regression" else [f"proba_{c}" for c in classes]
    out: dict[str, np.ndarray] = {}
    for model, part in frame.groupby("model", sort=False):
        if not set(columns) <= set(part.columns) or part[columns].isna().any().any():
            continue
        mean = part.groupby("row")[columns].mean()
        if len(mean) == len(rows):
            values = mean.loc[rows].to_numpy(dtype=float)
            out[str(model)] = values.ravel() if task == "regression" else values
    truth = frame.drop_duplicates("row").set_index("row").loc[rows, "y_true"]
    if task == "regression":
        return out, truth.to_numpy(dtype=float)
    index = {c: i for i, c in enumerate(classes)}
    return out, np.array([index[c] for c in truth], dtype=int)
