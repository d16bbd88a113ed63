"""What train and cv tell a person before and beside the scores, so that a number never misleads: columns
that leak the target, rows that sit on both sides of a split, a target that wants --log-target, and the
share of evaluated rows a model was trained on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Notify, rows_seen, warn
from mlcli.data.schema import Schema
from mlcli.data.target import skewed_positive


@dataclass
class Findings:
    """Warnings for the report, the JSON (``warnings``) and the bundle; the leaks and duplicates in detail."""

    warnings: list[str] = field(default_factory=list)
    leaks: list[dict[str, Any]] = field(default_factory=list)
    duplicates: dict[str, Any] | None = None

    def add(self, other: Findings) -> None:
        self.warnings += other.warnings
        self.leaks += other.leaks
        self.duplicates = other.duplicates or self.duplicates


def leak_screen(schema: Schema, X: pd.DataFrame, y: np.ndarray, seed: int, notify: Notify) -> Findings:
    """Every column alone (and, for a numeric target, every sum, difference and mean of two numeric columns)
    scored against the target on a sample of the rows, before any model is fitted (explain.leaks.screen)."""
    from mlcli.explain.leaks import SCREEN_ROWS, screen

    notify(f"checking each column for a leak of the target ({min(len(X), SCREEN_ROWS)} rows; --no-leak-check "
           "skips it)")
    leaks = screen(schema, X, y, seed)
    found = Findings([leak.message(schema.target) for leak in leaks], [leak.to_dict() for leak in leaks])
    for line in found.warnings:
        warn(notify, line)
    return found


def duplicates_across(train_hashes: np.ndarray, test_hashes: np.ndarray, what: str = "held-out") -> Findings:
    """Held-out rows that are exact copies (features and target) of training rows make the metrics optimistic."""
    known = np.unique(train_hashes)
    count = rows_seen(test_hashes, known)
    if not count:
        return Findings(duplicates={"test_rows": 0, "of": int(len(test_hashes))})
    share = count / max(len(test_hashes), 1)
    return Findings([f"{count} of the {len(test_hashes)} {what} rows ({share:.1%}) are exact copies of training "
                     "rows, so the held-out metrics are optimistic: remove duplicate rows from the data (with "
                     "resampled data, train on the original file with --balance instead)"],
                    duplicates={"test_rows": int(count), "of": int(len(test_hashes))})


def target_advice(y: pd.Series, task: str, log_target: bool) -> Findings:
    """A strictly positive, strongly skewed numeric target: suggest --log-target."""
    if task != "regression" or log_target:
        return Findings()
    skew = skewed_positive(y)
    if skew is None:
        return Findings()
    return Findings([f"target '{y.name}' is positive and strongly skewed (skewness {skew:.1f}): --log-target "
                     "(fitting on log(1 + y)) often predicts such targets better"])


def training_rows(hashes: np.ndarray, known: np.ndarray | None, consequence: str = "these metrics are not held-out"
                  ) -> tuple[dict[str, Any] | None, list[str]]:
    """(count of evaluated rows the model was trained on, warnings) against a bundle's training-row hashes."""
    if known is None:
        return None, []
    count = rows_seen(hashes, known)
    share = count / max(len(hashes), 1)
    info = {"count": int(count), "of": int(len(hashes)), "share": round(share, 6)}
    if not count:
        return info, []
    return info, [f"{count} of {len(hashes)} rows ({share:.1%}) were used to train this model: {consequence}"]
