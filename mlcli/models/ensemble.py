"""A saved ensemble: whole mlcli pipelines (preprocessing + model) averaged with weights, or combined by a
stacker fitted on their out-of-fold predictions.

A member is one pipeline refitted on every row (:meth:`EnsembleClassifier.fit`), or the pipelines fitted on
the folds of a cross-validation, whose predictions are averaged (bagging: :func:`from_fitted`). Member
pipelines are fitted on class indices 0..k-1, as every mlcli pipeline is, so an ensemble's ``classes_`` are
0..k-1 too and its ``predict_proba`` has one column per class in that order.

A bundle holds a Pipeline: :func:`as_pipeline` puts an ensemble in a one-step Pipeline (step ``model``),
which predict, evaluate, explain and the bundle format read as any mlcli pipeline; the boosters inside the
members are written in their libraries' own formats (:mod:`mlcli.models.persist`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone

from mlcli.errors import ConfigError

STEP = "model"  # the name of the ensemble's step in the Pipeline a bundle holds
EPS = 1e-6  # probabilities are clipped to [EPS, 1 - EPS] before log-odds are taken for a stacker


def stack_features(outputs: Sequence[np.ndarray], task: str) -> np.ndarray:
    """A stacker's input from the members' predictions (one array per member, rows aligned): the log-odds of
    the positive class (binary), the log-probability of each class (multiclass) or the value (regression)."""
    columns = []
    for out in outputs:
        out = np.asarray(out, dtype=float)
        if task == "regression":
            columns.append(out.reshape(len(out), 1))
        elif task == "binary":
            p = np.clip(out[:, 1], EPS, 1 - EPS)
            columns.append(np.log(p / (1 - p)).reshape(-1, 1))
        else:
            columns.append(np.log(np.clip(out, EPS, 1.0)))
    return np.hstack(columns)


def _weights(weights: Any, n: int) -> np.ndarray:
    """``weights`` as n non-negative numbers summing to 1 (equal weights when None)."""
    if n == 0:
        raise ConfigError("an ensemble needs at least one member")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel()
    if len(w) != n or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ConfigError(f"an ensemble of {n} members needs {n} non-negative weights with a positive sum, "
                          f"got {list(np.round(w, 6))}")
    return w / w.sum()


def average(outputs: Sequence[np.ndarray], weights: Any) -> np.ndarray:
    """The weighted average of the members' predictions (weights normalised to sum to 1; members of weight 0
    are not read): what an ensemble without a stacker predicts."""
    w = _weights(weights, len(outputs))
    total = None
    for wi, out in zip(w, outputs):
        if wi > 0:
            part = wi * np.asarray(out, dtype=float)
            total = part if total is None else total + part
    return total


class _Ensemble(BaseEstimator):
    """What both kinds share: the members, their weights and the optional stacker."""

    def __init__(self, members: Sequence[Any] = (), weights: Any = None, names: Sequence[str] | None = None,
                 stacker: Any = None):
        self.members = members  # unfitted pipelines (templates: fit refits clones of them)
        self.weights = weights
        self.names = names
        self.stacker = stacker  # already fitted on stack_features of every member's out-of-fold output, or None

    def fit(self, X: Any, y: Any) -> _Ensemble:
        """Refit a clone of every member on all of ``X``, ``y`` (members of weight 0 are left out, unless a
        stacker combines them)."""
        members = list(self.members)
        weights = _weights(self.weights, len(members))
        keep = range(len(members)) if self.stacker is not None else np.flatnonzero(weights > 0)
        fitted = [[clone(members[i]).fit(X, y)] for i in keep]
        self._set_fitted(fitted, weights, self.names, self.stacker, np.asarray(y))
        return self

    def _set_fitted(self, fitted: list[list[Any]], weights: np.ndarray, names: Sequence[str] | None,
                    stacker: Any, y: np.ndarray | None, n_classes: int | None = None) -> None:
        n = len(weights)
        names = list(names) if names is not None else [f"member {i + 1}" for i in range(n)]
        if len(names) != n:
            raise ConfigError(f"an ensemble of {n} members needs {n} names, got {len(names)}")
        keep = list(range(n)) if stacker is not None else [i for i in range(n) if weights[i] > 0]
        if len(fitted) != len(keep):
            fitted = [fitted[i] for i in keep]
        self.members_ = fitted
        self.weights_ = weights[keep]  # normalised already: the left-out members weigh 0
        self.names_ = [str(names[i]) for i in keep]
        self.stacker_ = stacker
        self._set_targets(y, n_classes)

    def _set_targets(self, y: np.ndarray | None, n_classes: int | None) -> None:
        """Regressors have nothing to record."""

    # ------------------------------------------------------------------ predicting

    def _output(self, pipeline: Any, X: Any) -> np.ndarray:
        raise NotImplementedError

    def member_outputs(self, X: Any) -> list[np.ndarray]:
        """Each member's prediction for ``X`` (its fold models' average): probabilities or values."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "members_")
        return [np.mean([self._output(p, X) for p in folds], axis=0) for folds in self.members_]

    def _combined(self, X: Any) -> np.ndarray:
        outputs = self.member_outputs(X)
        if self.stacker_ is None:
            return average(outputs, self.weights_)
        features = stack_features(outputs, self._task())
        return self._stacked(features)

    def _task(self) -> str:
        raise NotImplementedError

    def _stacked(self, features: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------ bundle hooks (fine-tuned transformers)

    def _artifact_steps(self):
        """(folder name, step) of every member step that keeps its weights outside the pipeline file."""
        hooks = ("save_artifacts", "load_artifacts", "forget_saved_artifacts")
        for i, folds in enumerate(getattr(self, "members_", [])):
            for j, pipeline in enumerate(folds):
                for name, step in getattr(pipeline, "steps", []):
                    if all(hasattr(step, hook) for hook in hooks):
                        yield f"member-{i}-{j}-{name}", step

    def save_artifacts(self, directory: str | Path) -> None:
        """The members' large artefacts (a fine-tuned transformer's weights), one folder each in ``directory``."""
        for name, step in self._artifact_steps():
            step.save_artifacts(Path(directory) / name)

    def forget_saved_artifacts(self) -> None:
        for _, step in self._artifact_steps():
            step.forget_saved_artifacts()

    def load_artifacts(self, directory: str | Path) -> None:
        for name, step in self._artifact_steps():
            step.load_artifacts(Path(directory) / name)


class EnsembleClassifier(ClassifierMixin, _Ensemble):
    """The weighted average of the members' class probabilities (or a stacker's over them)."""

    def _set_targets(self, y: np.ndarray | None, n_classes: int | None) -> None:
        k = n_classes if n_classes is not None else int(np.max(y)) + 1
        if k < 2:
            raise ConfigError(f"a classifier ensemble needs at least 2 classes, got {k}")
        self.classes_ = np.arange(k)

    def _task(self) -> str:
        return "binary" if len(self.classes_) == 2 else "multiclass"

    def _output(self, pipeline: Any, X: Any) -> np.ndarray:
        """The member's probabilities over every class (a fold model that never saw a class gives it 0)."""
        proba = np.asarray(pipeline.predict_proba(X), dtype=float)
        seen = getattr(pipeline, "classes_", None)
        k = len(self.classes_)
        if seen is None or len(seen) == k:
            return proba
        out = np.zeros((proba.shape[0], k))
        out[:, np.asarray(seen, dtype=int)] = proba
        return out

    def _stacked(self, features: np.ndarray) -> np.ndarray:
        proba = np.asarray(self.stacker_.predict_proba(features), dtype=float)
        out = np.zeros((proba.shape[0], len(self.classes_)))
        out[:, np.asarray(self.stacker_.classes_, dtype=int)] = proba
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        return self._combined(X)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class EnsembleRegressor(RegressorMixin, _Ensemble):
    """The weighted average of the members' predictions (or a stacker's over them)."""

    def _task(self) -> str:
        return "regression"

    def _output(self, pipeline: Any, X: Any) -> np.ndarray:
        return np.asarray(pipeline.predict(X), dtype=float).ravel()

    def _stacked(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(self.stacker_.predict(features), dtype=float).ravel()

    def predict(self, X: Any) -> np.ndarray:
        return self._combined(X)


def make_ensemble(task: str, members: Sequence[Any], weights: Any = None, names: Sequence[str] | None = None,
                  stacker: Any = None) -> _Ensemble:
    """An unfitted ensemble of unfitted mlcli pipelines (``fit`` refits each member on all rows)."""
    cls = EnsembleRegressor if task == "regression" else EnsembleClassifier
    return cls(list(members), weights, list(names) if names is not None else None, stacker)


def from_fitted(task: str, folds: Sequence[Sequence[Any]], weights: Any = None, names: Sequence[str] | None = None,
                stacker: Any = None, n_classes: int | None = None) -> _Ensemble:
    """A fitted ensemble of already fitted pipelines: per member, its fold models (bagging) or the one pipeline
    refitted on all rows. ``n_classes`` (classification): the number of classes of the target."""
    folds = [list(f) for f in folds]
    if any(not f for f in folds):
        raise ConfigError("every ensemble member needs at least one fitted pipeline")
    if task != "regression" and n_classes is None:
        raise ConfigError("a classifier ensemble of fitted pipelines needs n_classes")
    ensemble = make_ensemble(task, [clone(f[0]) for f in folds], weights, names, stacker)
    ensemble._set_fitted(folds, _weights(weights, len(folds)), ensemble.names, stacker, None, n_classes)
    return ensemble


def as_pipeline(ensemble: _Ensemble) -> Any:
    """The ensemble as the one step (``model``) of a Pipeline: the form a bundle holds."""
    from sklearn.pipeline import Pipeline

    return Pipeline([(STEP, ensemble)])


def ensemble_of(pipeline: Any) -> _Ensemble | None:
    """The ensemble at the end of a pipeline (or the ensemble itself), else None."""
    last = pipeline.steps[-1][1] if hasattr(pipeline, "steps") and pipeline.steps else pipeline
    return last if isinstance(last, _Ensemble) else None
