"""--calibrate sigmoid|isotonic: a classifier wrapped in scikit-learn's CalibratedClassifierCV.

The calibrator is fitted on out-of-fold predictions of the rows the pipeline is fitted on — inside ``train``
the training split only, inside cv a fold's training rows — on FOLDS stratified, shuffled inner folds; the
model itself is then refitted on all those rows (``ensemble=False``), so there is one model to explain and
save, and the held-out rows are never seen by either. Models that calibrate already (the registry's
``calibrate``: SVMs, the perceptron) and regression refuse it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from mlcli.errors import ConfigError, DataError

METHODS = ("sigmoid", "isotonic")
FOLDS = 5


def parse_calibrate(text: str | None) -> str | None:
    """--calibrate sigmoid|isotonic|none -> the method, or None."""
    if text is None or text.strip().lower() in ("none", "off", "no", "false"):
        return None
    method = text.strip().lower()
    if method == "platt":
        method = "sigmoid"
    if method not in METHODS:
        raise ConfigError(f"--calibrate must be sigmoid, isotonic or none, got '{text}'")
    return method


def check_task(method: str | None, task: str | None, target: str | None = None) -> None:
    """Refuse --calibrate for regression (``task`` None: not known yet)."""
    if method and task == "regression":
        what = f"the target '{target}' is a regression target" if target else "--task is regression"
        raise ConfigError(f"--calibrate is for classifiers' probabilities; {what}")


def check_resampling(method: str | None, balances: list[str]) -> None:
    """Refuse --calibrate beside a resampling --balance method: the calibrator would see resampled rows."""
    resampling = [b for b in balances if (b or "none").strip().lower() not in ("none", "class-weight")]
    if method and resampling:
        raise ConfigError(f"--calibrate with --balance {resampling[0]} would calibrate on resampled rows, whose "
                          "class shares are not the data's; use --class-weight balanced, or --calibrate alone with "
                          "--threshold auto")


def check_calibrate(method: str | None, spec: Any, task: str | None, target: str | None = None) -> None:
    """Refuse --calibrate for a model that calibrates already, and for regression (``task`` None: not known
    yet)."""
    if method is None:
        return
    if spec.calibrate:
        raise ConfigError(f"--calibrate: model '{spec.name}' calibrates its probabilities already (sigmoid, on 3 "
                          "inner folds); leave --calibrate out")
    check_task(method, task, target)
    if spec.baseline:
        raise ConfigError(f"--calibrate: model '{spec.name}' predicts the training class shares, calibrated "
                          "already; leave --calibrate out")


class CalibratedModel(ClassifierMixin, BaseEstimator):
    """A classifier whose probabilities are calibrated on ``folds`` stratified, shuffled inner folds of the rows
    it is fitted on (scikit-learn's CalibratedClassifierCV, ``ensemble=False``), keeping the model refitted on
    every row at ``estimator_`` — where mlcli's other wrappers keep theirs, so early stopping's report, native
    importances and a booster's own file in the bundle find it — and the calibrators beside it."""

    def __init__(self, estimator=None, method: str = "sigmoid", folds: int = FOLDS, seed: int = 0):
        self.estimator = estimator
        self.method = method
        self.folds = folds
        self.seed = seed

    def fit(self, X, y, **params):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import StratifiedKFold

        labels, counts = np.unique(np.asarray(y), return_counts=True)
        if counts.min() < self.folds:
            raise DataError(f"--calibrate needs at least {self.folds} training rows of every class for its inner "
                            f"folds; class '{labels[np.argmin(counts)]}' has {counts.min()}")
        folds = StratifiedKFold(self.folds, shuffle=True, random_state=self.seed % 2**32)
        fitted = CalibratedClassifierCV(clone(self.estimator), method=self.method, cv=folds, ensemble=False)
        fitted.fit(X, y, **params)
        inner = fitted.calibrated_classifiers_[0]
        self.estimator_, self.calibrators_, self.classes_ = inner.estimator, list(inner.calibrators), fitted.classes_
        return self

    def predict_proba(self, X):
        from sklearn.calibration import _CalibratedClassifier

        return _CalibratedClassifier(self.estimator_, self.calibrators_, method=self.method,
                                     classes=self.classes_).predict_proba(X)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def calibrated(estimator: Any, method: str, seed: int) -> CalibratedModel:
    return CalibratedModel(estimator, method, FOLDS, seed)


def calibration_meta(spec: Any, method: str | None, task: str) -> dict[str, Any] | None:
    """What the bundle and the train output record: the method, the inner folds and who asked for it."""
    if task == "regression":
        return None
    if method:
        return {"method": method, "folds": FOLDS, "by": "--calibrate"}
    if spec.calibrate:
        return {"method": "sigmoid", "folds": 3, "by": "model"}
    return None
