"""The guard of auto's final choice (board.guard_choice, ensemble.crossfit_gain) on real out-of-fold
predictions (scikit-learn's bundled breast cancer and diabetes sets, 5 folds): a clear gain over the best default
model keeps the ensemble; a lead that exists only on the rows the selection was made on gives the default back."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlcli.errors import ConfigError
from mlcli.experiments.auto.board import Choice, guard_choice, is_default
from mlcli.experiments.auto.ensemble import blend, crossfit_gain, oof_score, select_ensemble


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
    assert len(g["halves"]) == 4 and min(g["halves"]) > 0.02  # random forest ~0.99 against a depth-3 tree ~0.93
    assert g["gain"] == pytest.approx(np.mean(g["halves"])) and g["in_sample_gain"] > 0.02
    assert kept.names == ["rf#flaml1"] and out is pred


def test_a_lead_won_on_the_rows_it_was_chosen_on_gives_the_best_default_back(cancer):
    """Logistic regression (ROC AUC ~0.995) is the best default; greedy selection adds a quarter of random
    forest because it helps on these rows, but made on one half it does not beat logistic regression on the
    other."""
    oof, y = cancer
    best = "logreg#default"
    sel = select_ensemble(oof, y, "binary")
    assert sel.best_single == best and len(sel.members) >= 2 and sel.score > sel.best_single_score
    choice = Choice(sel.members, [sel.weights[n] for n in sel.members], sel.score, oof_score=sel.score)
    fallback, out = guard_choice(choice, sel.prediction, oof, y, "binary", "roc_auc", seed=0)
    g = fallback.guard
    assert g["reference"] == best and not g["kept"] and g["acted"]
    assert g["in_sample_gain"] == pytest.approx(sel.score - oof_score(y, oof[best], "binary", "roc_auc"), abs=1e-6)
    assert g["in_sample_gain"] > 0 >= g["gain"]  # the lead vanishes on rows the selection did not see
    assert fallback.names == [best] and fallback.weights == [1.0] and fallback.stacker is None
    np.testing.assert_array_equal(out, oof[best])
    assert fallback.oof_score == oof_score(y, oof[best], "binary", "roc_auc")
    assert [n for n, _ in g["ensemble"]] == sel.members  # what it replaced is on record
    # --always-ensemble: the check is recorded, the ensemble stays
    same, out = guard_choice(choice, sel.prediction, oof, y, "binary", "roc_auc", seed=0, guard=False)
    assert same.names == sel.members and out is sel.prediction
    assert not same.guard["kept"] and not same.guard["acted"] and same.guard["halves"] == g["halves"]


def test_regression_lower_is_better(diabetes):
    oof, y = diabetes
    choice, pred = _choice(oof, y, "regression", "rmse", {"rf#variant": 0.5, "ridge#default": 0.5})
    out, _ = guard_choice(choice, pred, oof, y, "regression", "rmse", seed=0)
    g = out.guard
    rmse_ref = oof_score(y, oof["ridge#default"], "regression", "rmse")
    assert g["reference"] == "ridge#default"
    assert g["in_sample_gain"] == pytest.approx(rmse_ref - choice.oof_score, abs=1e-6)  # positive: a lower RMSE
    assert len(g["halves"]) == 4 and all(abs(h) < 10 for h in g["halves"])  # RMSE ~55: gains of a point or two
    assert g["kept"] == (g["gain"] > 0)


def test_the_check_is_seeded_and_cuts_the_rows_in_stratified_halves(cancer):
    oof, y = cancer
    first, again = (crossfit_gain(oof, y, "binary", "roc_auc", "logreg#default", seed=5) for _ in range(2))
    assert first == again and len(first) == 4
    assert crossfit_gain(oof, y, "binary", "roc_auc", "logreg#default", repeats=3, seed=5)[:4] == first
    with pytest.raises(ConfigError, match="reference 'knn#default'"):
        crossfit_gain(oof, y, "binary", "roc_auc", "knn#default")


def test_the_terminal_names_the_ensemble_the_guard_replaced():
    """When the guard acts, the line names the replaced ensemble's members, not the default model twice."""
    from io import StringIO

    from rich.console import Console

    from mlcli.render.auto import _versus

    guard = {"reference": "logreg#default", "gain": -0.0061, "in_sample_gain": 0.0027, "halves": [-0.006] * 4,
             "kept": False, "acted": True, "ensemble": [["xgboost#flaml2", 0.5], ["logreg#C10", 0.5]]}
    doc = {"metric": "roc_auc", "ensemble": {"members": [{"name": "logreg#default", "weight": 1.0}],
                                            "combiner": "weighted average", "score": 0.95, "oof_score": 0.95,
                                            "guard": guard},
           "best_single": None, "baseline": None}
    buf = StringIO()
    _versus(Console(file=buf, width=300, color_system=None), doc)
    first = buf.getvalue().splitlines()[0]
    assert first.startswith("Final model: logreg#default, the best default model: the ensemble (0.50 × "
                            "xgboost#flaml2 + 0.50 × logreg#C10) did not beat it")
    assert "gain -0.0061; +0.0027 on the rows it was chosen on" in first
