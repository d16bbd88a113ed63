"""mlcli's pipeline steps around a model: a resampler that checks class sizes, class weights as row weights,
a dense matrix for tree ensembles when it is small, and how to reach the library estimator inside them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone

from mlcli.errors import ConfigError, DataError, first_line


class CheckedSampler(BaseEstimator):
    """Wraps an imbalanced-learn sampler and says, in one sentence, when a class is too small for it."""

    def __init__(self, sampler=None, method: str = "", neighbours: str | None = None):
        self.sampler = sampler
        self.method = method
        self.neighbours = neighbours

    def fit_resample(self, X, y, **params):
        check_neighbours(np.asarray(y), self.sampler, self.method, self.neighbours)
        self.sampler_ = clone(self.sampler)
        try:
            return self.sampler_.fit_resample(X, y, **params)
        except ValueError as exc:
            first = first_line(exc)
            raise DataError(f"balance method '{self.method}' failed on the training rows: {first}") from exc


DENSE_LIMIT = 256 * 2**20  # bytes: the largest float32 matrix handed to tree ensembles dense
DENSE_MIN_DENSITY = 0.03  # share of stored values below which the sparse matrix is faster (benchmarks/dense_rule.py)


class DenseIfSmall(TransformerMixin, BaseEstimator):
    """Hands a tree ensemble a dense float32 matrix when that is at most ``max_bytes`` (rows x width x 4) and at
    least ``min_density`` of its values are stored in the sparse one; else the sparse matrix unchanged.

    scikit-learn's trees split dense float32 columns several times faster than sparse input when the matrix is
    fairly full (a random forest on UCI Adult, 21 % stored: 2.1 s a fold against 11.1 s, the same trees), but
    far slower when it is mostly empty (many one-hot levels, TF-IDF: 0.2 % stored, 10x slower dense). The rule
    is applied per call, so a large file scored in slices is densified a slice at a time.
    """

    def __init__(self, max_bytes: int = DENSE_LIMIT, min_density: float = DENSE_MIN_DENSITY):
        self.max_bytes = max_bytes
        self.min_density = min_density

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        from scipy import sparse

        if not sparse.issparse(X):
            return X
        cells = X.shape[0] * X.shape[1]
        if cells * 4 <= self.max_bytes and X.nnz >= self.min_density * cells:
            return X.astype(np.float32).toarray()
        return X

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object) if input_features is not None else None


def check_neighbours(y: np.ndarray, sampler: Any, method: str, neighbours: str | None) -> None:
    """SMOTE-like methods need more minority rows than neighbours; say so before imbalanced-learn does."""
    if not neighbours:
        return
    k = sampler.get_params().get(neighbours)
    if not isinstance(k, (int, np.integer)):
        return
    counts = pd.Series(y).value_counts()
    smallest, n = counts.idxmin(), int(counts.min())
    if n < k + 1:
        raise DataError(f"balance method '{method}' needs at least {k + 1} rows of every class ({neighbours}={k} + 1), "
                        f"but class '{smallest}' has {n} in the training rows; "
                        f"use --param {neighbours}={max(1, n - 1)} "
                        "or --balance oversample")


class ClassWeighted(ClassifierMixin, BaseEstimator):
    """Fits a classifier with per-row weights from class weights (for models with no class_weight option).

    The weights are computed from the labels it is fitted on, so inside cv they come from the training fold.
    """

    def __init__(self, estimator=None, class_weight: Any = "balanced"):
        self.estimator = estimator
        self.class_weight = class_weight

    def fit(self, X, y, **params):
        from sklearn.utils.class_weight import compute_sample_weight

        weight = compute_sample_weight(self.class_weight, y)
        self.estimator_ = clone(self.estimator)
        self.estimator_.fit(X, y, sample_weight=weight, **params)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)

    @property
    def feature_importances_(self):
        return self.estimator_.feature_importances_

    @property
    def coef_(self):
        return self.estimator_.coef_


WRAPPERS = ("ClassWeighted", "EarlyStoppedClassifier", "EarlyStoppedRegressor")  # mlcli's, around a model


def final_model(pipeline: Any) -> Any:
    """The library estimator at the end of the pipeline, inside mlcli's wrappers (class weights, early
    stopping), if any; a target transform or calibration around it stays (see :func:`unwrap`)."""
    model = pipeline.steps[-1][1]
    while type(model).__name__ in WRAPPERS:
        inner = getattr(model, "estimator_", None)
        if inner is None:
            return model
        model = inner
    return model


def unwrap(model: Any) -> Any:
    """The library estimator inside every wrapper: a CalibratedClassifierCV (SVMs, the perceptron),
    TransformedTargetRegressor (target scaling, --log-target) and mlcli's own; the fitted one once fitted."""
    while True:
        name = type(model).__name__
        if name == "CalibratedClassifierCV":
            fitted = getattr(model, "calibrated_classifiers_", None)
            model = fitted[0].estimator if fitted else model.estimator
        elif name == "TransformedTargetRegressor":
            fitted = getattr(model, "regressor_", None)
            model = fitted if fitted is not None else model.regressor
        elif name in WRAPPERS or name == "CalibratedModel":  # CalibratedModel: --calibrate (models.calibrate)
            fitted = getattr(model, "estimator_", None)
            model = fitted if fitted is not None else model.estimator
        else:
            return model


def target_transform(model: Any) -> tuple[float, str | None]:
    """How a fitted regressor's target was transformed before fitting: (the standard scaler's scale to multiply
    coefficients by, to bring them back to target units; 'log(1 + target)' when --log-target was used)."""
    import numpy as np

    factor, unit = 1.0, None
    while type(model).__name__ == "TransformedTargetRegressor":
        scaler = getattr(model, "transformer_", None)
        if getattr(model, "func", None) is np.log1p:
            unit = "log(1 + target)"
        elif scaler is not None and hasattr(scaler, "scale_"):
            factor *= float(np.ravel(scaler.scale_)[0])
        fitted = getattr(model, "regressor_", None)
        model = fitted if fitted is not None else model.regressor
    return factor, unit


def class_weight_value(spec_kind: str | None, class_weight: str | dict, model: str, classes: list[Any]) -> Any:
    """Translate --class-weight for a model: 'balanced' or {class index: weight}."""
    if spec_kind is None:
        raise ConfigError(f"model '{model}' does not take class weights; use --balance oversample (or smote) instead")
    if isinstance(class_weight, str):
        return "balanced"
    by_label = {str(c): i for i, c in enumerate(classes)}
    weights = {}
    for label, w in class_weight.items():
        if str(label) not in by_label:
            raise ConfigError(f"--class-weight names class '{label}', which is not in the target; classes: "
                              f"{', '.join(map(str, classes))}")
        weights[by_label[str(label)]] = float(w)
    return {i: weights.get(i, 1.0) for i in range(len(classes))}


def parse_class_weight(text: str | None) -> str | dict | None:
    """--class-weight balanced | CLASS=WEIGHT,CLASS=WEIGHT."""
    if not text or text.strip().lower() == "none":
        return None
    if text.strip().lower() == "balanced":
        return "balanced"
    out = {}
    for part in text.split(","):
        label, sep, weight = part.partition("=")
        try:
            out[label.strip()] = float(weight)
            if not sep or out[label.strip()] <= 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"--class-weight expects 'balanced' or CLASS=WEIGHT,... with positive weights; "
                              f"got '{text}'") from None
    return out
