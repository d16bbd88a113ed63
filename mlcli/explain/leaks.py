"""The leak check: a column (or, for a numeric target, a sum, difference or mean of two columns) that alone
nearly determines the target. One implementation: ``train`` and ``cv`` screen every column before fitting
(:func:`screen`), ``explain`` checks the column that dominates the importances (:func:`leak_warnings`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.schema import Schema
from mlcli.evaluation.metrics import main_score
from mlcli.explain.results import MethodResult

LEAK_SHARE = 0.5  # a column carrying at least this share of the importance ...
LEAK_SCORE = {"roc_auc": 0.97, "f1_macro": 0.97, "r2": 0.95}  # ... and scoring this well on its own
DOMINANT_SHARE = 0.8  # without labelled data: a column carrying this share gets a hint
SCREEN_ROWS = 5000  # the screen before fitting looks at a random sample of at most this many training rows
PAIR_R2 = 0.99  # a numeric target reproduced this well by a + b or a - b (no fitting) is a leak
MAX_PAIR_COLUMNS = 100  # pairs are checked among at most this many numeric columns


@dataclass
class Leak:
    """Columns that (nearly) determine the target: alone, or as a sum or a difference of two."""

    columns: list[str]
    metric: str  # roc_auc | f1_macro | r2
    score: float
    how: str  # alone | sum | difference | mean

    @property
    def drop(self) -> str:
        return "--drop " + ",".join(self.columns)

    def message(self, target: str) -> str:
        shown = "R²" if self.metric == "r2" else {"roc_auc": "ROC AUC", "f1_macro": "macro F1"}.get(self.metric,
                                                                                                   self.metric)
        if self.how == "alone":
            what = (f"column '{self.columns[0]}' alone predicts '{target}' almost perfectly ({shown} "
                    f"{self.score:.3f} on its own, cross-validated)")
        elif self.how == "mean":
            a, b = self.columns
            what = f"'{target}' is (nearly) the mean of '{a}' and '{b}' (R² {self.score:.4f})"
        else:
            a, b = self.columns
            op = "+" if self.how == "sum" else "-"
            what = f"'{target}' is (nearly) '{a}' {op} '{b}' (R² {self.score:.4f})"
        return (f"possible leak: {what}; if it is computed from the target or recorded after the outcome, "
                f"leave it out: {self.drop}")

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "metric": self.metric, "score": round(self.score, 6), "how": self.how,
                "drop": self.drop}


LEVELS_AS_CATEGORIES = 64  # a numeric column with at most this many values is read level by level (classes)


def single_column_score(schema: Schema, X: pd.DataFrame, y: np.ndarray, column: str, seed: int = 42
                        ) -> tuple[str, float] | None:
    """How well ``column`` alone predicts the target, cross-validated over 3 folds: the task's main metric (R²
    for regression). A numeric column gets a small tree (missing values go their own way), a categorical one
    the target's distribution per level seen in the training folds, text and dates mlcli's own preprocessing
    and a small tree. None when there are too few rows to tell."""
    from sklearn.model_selection import KFold, StratifiedKFold

    info = next((c for c in schema.used if c.name == column), None)
    if info is None or len(X) < 30:
        return None
    task = schema.task
    y = np.asarray(y)
    if task != "regression":
        counts = np.bincount(y)
        if counts[counts > 0].min() < 3:
            return None
    k = 1 if task == "regression" else int(y.max()) + 1
    splitter = KFold(3, shuffle=True, random_state=seed) if task == "regression" else \
        StratifiedKFold(3, shuffle=True, random_state=seed)
    out = np.zeros((len(y), k))
    column_values = X[column].reset_index(drop=True)
    for train, test in splitter.split(np.zeros(len(y)), y):
        out[test] = _fold_predictions(schema, info, column_values, y, train, test, k, seed)
    if task == "regression":
        from sklearn.metrics import r2_score

        return "r2", float(r2_score(y, out[:, 0]))
    return main_score(task, y, out.argmax(axis=1), out, k)


def _fold_predictions(schema: Schema, info: Any, values: pd.Series, y: np.ndarray, train: np.ndarray,
                      test: np.ndarray, k: int, seed: int) -> np.ndarray:
    """(len(test), k): probabilities per class, or the prediction in column 0 (regression)."""
    regression = schema.task == "regression"
    # a numeric column of few values, for classes: each value as a level (a depth-6 tree splits many evenly
    # sized classes greedily and misses a column that is the class recoded)
    few = info.role == "numeric" and not regression and values.nunique() <= LEVELS_AS_CATEGORIES
    if info.role == "categorical" or few:
        levels = pd.Categorical(values.astype("object").where(values.notna(), "(missing)").astype(str))
        return _level_means(levels.codes, len(levels.categories), y, train, test, k, regression)
    if info.role == "numeric":
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        x = values.to_numpy(dtype=float, na_value=np.nan).reshape(-1, 1)
        tree = (DecisionTreeRegressor if regression else DecisionTreeClassifier)(
            max_depth=6, min_samples_leaf=5, random_state=seed).fit(x[train], y[train])
        return tree.predict(x[test])[:, None] if regression else _all_classes(tree, x[test], k)
    return _preprocessed_tree(schema, info, values, y, train, test, k, seed)


def _level_means(codes: np.ndarray, n_levels: int, y: np.ndarray, train: np.ndarray, test: np.ndarray, k: int,
                 regression: bool) -> np.ndarray:
    """Each level's target mean (regression) or class shares, learned on the training fold's rows."""
    if regression:
        sums = np.bincount(codes[train], weights=y[train], minlength=n_levels)
        seen = np.bincount(codes[train], minlength=n_levels)
        means = np.where(seen > 0, sums / np.maximum(seen, 1), y[train].mean())
        return means[codes[test]][:, None]
    table = np.zeros((n_levels, k))
    np.add.at(table, (codes[train], y[train]), 1.0)
    prior = np.bincount(y[train], minlength=k) / len(train)
    totals = table.sum(axis=1, keepdims=True)
    shares = np.where(totals > 0, table / np.maximum(totals, 1), prior)
    return shares[codes[test]]


def _all_classes(model: Any, X: Any, k: int) -> np.ndarray:
    """predict_proba with a column for every class (a fold may lack one)."""
    proba = np.zeros((X.shape[0], k))
    proba[:, np.asarray(model.classes_, dtype=int)] = model.predict_proba(X)
    return proba


def _preprocessed_tree(schema: Schema, info: Any, values: pd.Series, y: np.ndarray, train: np.ndarray,
                       test: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Text and date columns: mlcli's preprocessing of that column alone, then a small tree."""
    from mlcli.models.build import ModelConfig, build_pipeline

    pipe = build_pipeline(Schema(schema.target, schema.task, [info]),
                          ModelConfig("tree", {"max_depth": 6, "min_samples_leaf": 5}, seed=seed, n_threads=1))
    frame = values.to_frame(info.name)
    pipe.fit(frame.iloc[train], y[train])
    if schema.task == "regression":
        return pipe.predict(frame.iloc[test])[:, None]
    return _all_classes(pipe, frame.iloc[test], k)


def leak_warnings(results: dict[str, MethodResult], schema: Schema, X: pd.DataFrame | None,
                  y: np.ndarray | None, seed: int = 42) -> list[str]:
    """A warning for a column that carries most of the importance and alone nearly predicts the target."""
    out = []
    checked: set[str] = set()
    for res in results.values():
        if not res.features:
            continue
        top = res.features[0]
        if top.name in checked or top.name.startswith("("):
            continue
        if X is None or y is None:
            if top.share >= DOMINANT_SHARE:
                checked.add(top.name)
                out.append(f"column '{top.name}' carries {top.share:.0%} of the {res.method} importance; give "
                           "labelled DATA to check whether it leaks the target")
            continue
        if top.share < LEAK_SHARE:
            continue
        checked.add(top.name)
        got = single_column_score(schema, X, y, top.name, seed)
        if got is None:
            continue
        metric, score = got
        if score >= LEAK_SCORE.get(metric, 1.1):
            shown = "R²" if metric == "r2" else metric
            out.append(f"possible leak: column '{top.name}' carries {top.share:.0%} of the {res.method} importance "
                       f"and alone predicts '{schema.target}' ({shown} {score:.3f} on its own); check it is not "
                       "a copy of the target or recorded after the outcome")
    return out


def screen(schema: Schema, X: pd.DataFrame, y: np.ndarray, seed: int = 42, rows: int = SCREEN_ROWS) -> list[Leak]:
    """Every used column scored alone against the target with a small cross-validated tree (on a sample of
    at most ``rows`` rows); for a numeric target also every sum, difference and mean of two numeric columns."""
    if len(X) > rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(X), size=rows, replace=False))
        X, y = X.iloc[keep], np.asarray(y)[keep]
    X = X.reset_index(drop=True)
    leaks = []
    for info in schema.used:
        got = single_column_score(schema, X, y, info.name, seed)
        if got is not None and got[1] >= LEAK_SCORE.get(got[0], 1.1):
            leaks.append(Leak([info.name], got[0], got[1], "alone"))
    if schema.task == "regression":
        pairs = _pair_leaks(X, np.asarray(y, dtype=float), schema.by_role("numeric")[:MAX_PAIR_COLUMNS])
        in_pairs = {c for leak in pairs for c in leak.columns}  # 'cnt = casual + registered' says it all
        leaks = [leak for leak in leaks if leak.columns[0] not in in_pairs] + pairs
    return leaks


def _pair_leaks(X: pd.DataFrame, y: np.ndarray, columns: list[str]) -> list[Leak]:
    """Pairs whose sum, difference or mean reproduces the target as it is (R² without fitting anything): a total
    and its parts, a price that is the midpoint of a minimum and a maximum price (MASS's Cars93)."""
    values = {c: X[c].to_numpy(dtype=float, na_value=np.nan) for c in columns}
    found = []
    for a, b in itertools.combinations(columns, 2):
        va, vb = values[a], values[b]
        for how, first, second, combined in (("sum", a, b, va + vb), ("difference", a, b, va - vb),
                                             ("difference", b, a, vb - va), ("mean", a, b, (va + vb) / 2)):
            ok = np.isfinite(combined)
            if ok.sum() < max(30, 0.9 * len(y)):
                continue
            spread = float(np.sum((y[ok] - y[ok].mean()) ** 2))
            r2 = 1.0 - float(np.sum((y[ok] - combined[ok]) ** 2)) / spread if spread > 0 else -np.inf
            if r2 >= PAIR_R2:
                found.append(Leak([first, second], "r2", r2, how))
                break
    return found
