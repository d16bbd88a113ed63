"""The leak screen's cost is bounded by columns, not by classes: a tree per column and fold on a sample.

Counted, not timed: for a 26-class target with 16 numeric columns the screen fits 16 x 3 small trees on at
most SCREEN_ROWS rows, exactly as many as for 3 classes (benchmarks/leak_screen.py times it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcli.data.schema import ColumnInfo, Schema
from mlcli.explain import leaks


def _frame(n: int, k: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """GENERATED: 16 small-integer columns whose distributions depend on one of k classes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    centres = rng.uniform(2, 13, size=(k, 16))
    X = np.clip(np.rint(centres[y] + rng.normal(0, 2.0, size=(n, 16))), 0, 15).astype(int)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(16)]), y


def _schema(frame: pd.DataFrame) -> Schema:
    return Schema("lettr", "multiclass", [ColumnInfo(c, str(frame[c].dtype), "numeric") for c in frame.columns])


@pytest.fixture
def tree_fits(monkeypatch):
    """Rows of every DecisionTreeClassifier fit while the test runs."""
    from sklearn.tree import DecisionTreeClassifier

    rows: list[int] = []
    original = DecisionTreeClassifier.fit

    def counting(self, X, y, *args, **kwargs):
        rows.append(len(y))
        return original(self, X, y, *args, **kwargs)

    monkeypatch.setattr(DecisionTreeClassifier, "fit", counting)
    return rows


@pytest.mark.parametrize("classes", [3, 26])
def test_screen_fits_a_tree_per_column_and_fold_whatever_the_classes(classes, tree_fits):
    X, y = _frame(16_000, classes)
    X = X + np.random.default_rng(1).uniform(0, 0.5, size=X.shape)  # many values: each column gets a tree
    assert leaks.screen(_schema(X), X, y, seed=0) == []
    assert len(tree_fits) == 16 * 3  # one per column and fold: never one per class
    assert max(tree_fits) <= leaks.SCREEN_ROWS  # on the sample, not on all 16,000 training rows


def test_screen_names_a_copied_target_with_26_classes():
    """A numeric column of few values is read level by level: the class recoded is named (a depth-6 tree
    alone reached macro F1 0.37 on it)."""
    X, y = _frame(3_000, 26)
    X["copy"] = y * 2 + 1  # GENERATED leak: the class index, recoded
    found = leaks.screen(_schema(X), X, y, seed=0)
    assert [leak.columns for leak in found] == [["copy"]] and found[0].metric == "f1_macro"


def test_small_integer_columns_are_read_level_by_level(tree_fits):
    X, y = _frame(16_000, 26)
    assert leaks.screen(_schema(X), X, y, seed=0) == []  # honest columns: nothing named
    assert tree_fits == []  # 16 values each: level shares, no tree
