"""Predictions of a fitted pipeline, with a decision threshold for binary models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlcli.errors import ConfigError


def check_threshold(threshold: float | None) -> None:
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ConfigError(f"--threshold must be between 0 and 1 (exclusive), got {threshold}")


def parse_threshold(text: str | None) -> float | str | None:
    """--threshold: a probability in (0, 1) or 'auto'."""
    if text is None:
        return None
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"--threshold must be a probability in (0, 1) or 'auto', got '{text}'") from None
    check_threshold(value)
    return value


PREDICT_ROWS = 100_000  # rows transformed and scored at a time: bounds the memory of the model's input


def _in_slices(method: Any, X: pd.DataFrame) -> np.ndarray:
    """method(X) a slice of rows at a time, concatenated: the same values with a fraction of the peak
    memory on large data (the preprocessed matrix of every row never exists at once)."""
    if len(X) <= PREDICT_ROWS:
        return np.asarray(method(X))
    rows = X.iloc if hasattr(X, "iloc") else X
    return np.concatenate([np.asarray(method(rows[i:i + PREDICT_ROWS])) for i in range(0, len(X), PREDICT_ROWS)])


def predict_indices(pipeline: Any, X: pd.DataFrame, task: str, threshold: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """(predictions, probabilities). For classifiers predictions are class indices 0..k-1."""
    if task == "regression":
        return _in_slices(pipeline.predict, X).astype(float), None
    proba = None
    if hasattr(pipeline, "predict_proba"):
        try:
            proba = _in_slices(pipeline.predict_proba, X).astype(float, copy=False)
        except AttributeError:  # e.g. a model that exposes predict_proba only for some settings
            proba = None
    if proba is None:
        return _in_slices(pipeline.predict, X).astype(int), None
    return decide(proba, task, threshold), proba


def decide(proba: np.ndarray, task: str, threshold: float | None = None) -> np.ndarray:
    """Class indices from probabilities: a binary model's positive class at ``threshold``, else the most probable."""
    if task == "binary" and threshold is not None:
        return (proba[:, 1] >= threshold).astype(int)
    return proba.argmax(axis=1)


def decode(indices: np.ndarray, classes: list[Any]) -> np.ndarray:
    return np.asarray(classes, dtype=object)[indices]
