"""The one-standard-error guard of auto's final choice (board.guard_choice, ensemble.paired_gain) on real
out-of-fold predictions (scikit-learn's bundled breast cancer and diabetes sets, 5 folds): a clear gain over the
best default model keeps the ensemble; a gain inside its noise gives the default model back."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlcli.experiments.auto.board import Choice, guard_choice, is_default
from mlcli.experiments.auto.ensemble import blend, oof_score, paired_gain


@pytest.fixture(scope="module")
def cancer():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    models = {"tree#default": DecisionTreeClassifier(max_depth=3, random_state=0),
              "logreg#default": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
              "rf#flaml1": RandomForestClassifier(100, random_state=0, n_jobs=1)}
    return {n: cross_val_predict(m, X, y, cv=folds, method="predict_proba") for n, m in models.items()}, y


@pytest.fixture(scope="module")
def diabetes():
    X, y = datasets.load_diabetes(return_X_y=True)
    folds = KFold(5, shuffle=True, random_state=0)
    models = {"ridge#default": make_pipeline(StandardScaler(), Ridge()),
              "tree#default": DecisionTreeRegressor(max_depth=3, random_state=0),
              "rf#variant": RandomForestRegressor(100, min_samples_leaf=5, random_state=0, n_jobs=1)}
    return {n: cross_val_predict(m, X, y, cv=folds) for n, m in models.items()}, y.astype(float)


def _choice(oof, y, task, metric, weights):
    pred = blend(oof, weights)
    score = oof_score(y, pred, task, metric)
    return Choice(list(weights), list(weights.values()), score, oof_score=score), pred


def test_defaults_are_the_registry_defaults_of_the_portfolio():
    assert is_default("catboost#default") and is_default("logreg#default")
    assert not is_default("lightgbm#flaml1") and not is_default("logreg#embed") and not is_default("ensemble")


def test_a_clear_gain_keeps_the_ensemble(cancer):
    oof, y = cancer
    weak = {"tree#default": oof["tree#default"], "rf#flaml1": oof["rf#flaml1"]}  # a shallow tree is the only default
    choice, pred = _choice(weak, y, "binary", "roc_auc", {"rf#flaml1": 1.0})
    kept, out = guard_choice(choice, pred, weak, y, "binary", "roc_auc", seed=0)
    g = kept.guard
    assert g["reference"] == "tree#default" and g["kept"] and not g["acted"]
    assert g["gain"] > 3 * g["se"] > 0  # random forest ~0.99 against a depth-3 tree ~0.93 on 569 rows
    assert kept.names == ["rf#flaml1"] and out is pred


def test_a_gain_inside_the_noise_gives_the_best_default_back(cancer):
    oof, y = cancer
    best = "logreg#default"  # the best default here (ROC AUC ~0.995)
    assert oof_score(y, oof[best], "binary", "roc_auc") > oof_score(y, oof["tree#default"], "binary", "roc_auc")
    choice, pred = _choice(oof, y, "binary", "roc_auc", {best: 0.95, "rf#flaml1": 0.05})
    fallback, out = guard_choice(choice, pred, oof, y, "binary", "roc_auc", seed=0)
    g = fallback.guard
    assert g["reference"] == best and not g["kept"] and g["acted"] and abs(g["gain"]) <= g["se"]
    assert fallback.names == [best] and fallback.weights == [1.0] and fallback.stacker is None
    np.testing.assert_array_equal(out, oof[best])
    assert fallback.oof_score == oof_score(y, oof[best], "binary", "roc_auc")
    assert [n for n, _ in g["ensemble"]] == [best, "rf#flaml1"]  # what it replaced is on record
    # --always-ensemble: the check is recorded, the ensemble stays
    same, out = guard_choice(choice, pred, oof, y, "binary", "roc_auc", seed=0, guard=False)
    assert same.names == [best, "rf#flaml1"] and out is pred
    assert not same.guard["kept"] and not same.guard["acted"]


def test_regression_lower_is_better(diabetes):
    oof, y = diabetes
    choice, pred = _choice(oof, y, "regression", "rmse", {"rf#variant": 0.5, "ridge#default": 0.5})
    gain, se = paired_gain(y, pred, oof["ridge#default"], "regression", "rmse", seed=0)
    rmse_ref, rmse_blend = (oof_score(y, p, "regression", "rmse") for p in (oof["ridge#default"], pred))
    assert gain == pytest.approx(rmse_ref - rmse_blend)  # positive: the blend's RMSE is lower
    assert 0 < se < 5  # RMSE ~55 on 442 rows: a paired difference varies by a point or two
    out, _ = guard_choice(choice, pred, oof, y, "regression", "rmse", seed=0)
    assert out.guard["reference"] == "ridge#default" and out.guard["kept"] == (gain > se)


def test_the_standard_error_from_a_sample_of_rows_is_scaled_to_all_rows(cancer):
    oof, y = cancer
    a, b = oof["rf#flaml1"], oof["tree#default"]
    _, full = paired_gain(y, a, b, "binary", "roc_auc", seed=0)
    _, part = paired_gain(y, a, b, "binary", "roc_auc", seed=0, max_rows=300)
    assert 0.5 * full < part < 2.0 * full
    same = paired_gain(y, a, b, "binary", "roc_auc", seed=0)
    assert same == (paired_gain(y, a, b, "binary", "roc_auc", seed=0))  # seeded: the same every time


def test_identical_predictions_have_no_gain_and_no_spread(cancer):
    oof, y = cancer
    gain, se = paired_gain(y, oof["logreg#default"], oof["logreg#default"], "binary", "roc_auc")
    assert gain == 0 and se == 0 and not math.isnan(se)
