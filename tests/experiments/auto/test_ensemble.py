"""Ensemble selection and stacking on out-of-fold predictions of real data (scikit-learn's bundled breast
cancer, wine and diabetes sets): never worse than the best single model on those rows, weights that are
proportions, deterministic, honest stacker scores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from mlcli.data.dataset import DataOptions
from mlcli.errors import ConfigError
from mlcli.evaluation import metrics as M
from mlcli.experiments.auto.ensemble import (
    blend,
    fit_stacker,
    oof_arrays,
    oof_score,
    select_ensemble,
    stacker_wins,
)
from mlcli.experiments.cv.request import CVRequest
from mlcli.experiments.cv.run import run_cv


def _classifiers():
    return {"logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
            "knn": make_pipeline(StandardScaler(), KNeighborsClassifier(15)), "nb": GaussianNB(),
            "tree": DecisionTreeClassifier(max_depth=4, random_state=0),
            "rf": RandomForestClassifier(60, random_state=0, n_jobs=1)}


def _oof(loader, task: str):
    """Out-of-fold predictions of a few scikit-learn models, 5 folds (probabilities or values)."""
    X, y = loader(return_X_y=True)
    if task == "regression":
        models = {"ridge": make_pipeline(StandardScaler(), Ridge()), "knn": KNeighborsRegressor(10),
                  "tree": DecisionTreeRegressor(max_depth=4, random_state=0),
                  "rf": RandomForestRegressor(60, min_samples_leaf=5, random_state=0, n_jobs=1)}
        folds = KFold(5, shuffle=True, random_state=0)
        return {n: cross_val_predict(m, X, y, cv=folds) for n, m in models.items()}, y.astype(float)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return {n: cross_val_predict(m, X, y, cv=folds, method="predict_proba") for n, m in _classifiers().items()}, y


@pytest.fixture(scope="module")
def wine():
    return _oof(datasets.load_wine, "multiclass")


@pytest.fixture(scope="module")
def diabetes():
    return _oof(datasets.load_diabetes, "regression")


def _check_selection(sel, oof, y, task):
    singles = {n: oof_score(y, out, task, sel.metric) for n, out in oof.items()}
    best = (max if M.higher_is_better(sel.metric) else min)(singles.values())
    assert sel.best_single_score == best and singles[sel.best_single] == best
    weights = np.array(list(sel.weights.values()))
    assert set(sel.weights) == set(oof) and np.all(weights >= 0) and weights.sum() == pytest.approx(1.0)
    assert sel.history[0] == best and sel.history[-1] == sel.score
    steps = np.diff(sel.history) * (1 if M.higher_is_better(sel.metric) else -1)
    assert np.all(steps > 0)  # every kept round improved the score
    assert sel.score == pytest.approx(oof_score(y, blend(oof, sel.weights), task, sel.metric), abs=1e-12)
    return best


def test_binary_selection_on_cv_oof_beats_the_best_single_model(tmp_path):
    """Breast cancer (569 rows) through mlcli cv --oof: the ensemble's ROC AUC is at least the best model's."""
    frame = datasets.load_breast_cancer(as_frame=True).frame
    frame.to_csv(tmp_path / "cancer.csv", index=False)
    req = CVRequest(DataOptions(str(tmp_path / "cancer.csv"), target="target"), ["knn,nb-gaussian,tree"],
                    folds=5, seed=0, jobs=1, oof=True, leak_check=False)
    result = run_cv(req)
    oof, y = oof_arrays(result.oof, "binary", [0, 1])
    oof.pop("baseline", None)
    assert set(oof) == {"knn", "nb-gaussian", "tree"} and len(y) == 569
    np.testing.assert_array_equal(y, frame["target"].to_numpy())
    sel = select_ensemble(oof, y, "binary")
    assert sel.metric == "roc_auc"
    best = _check_selection(sel, oof, y, "binary")
    assert 0.97 < best <= sel.score <= 1.0
    assert len(sel.members) >= 2 and sel.score > best + 0.003  # k-NN and naive Bayes err on different rows


def test_multiclass_and_a_lower_is_better_metric(wine):
    oof, y = wine
    sel = select_ensemble(oof, y, "multiclass", metric="log_loss")
    best = _check_selection(sel, oof, y, "multiclass")
    assert sel.score <= best < 0.3  # log loss: lower is better
    sel_f1 = select_ensemble(oof, y, "multiclass")  # the task's main metric: macro F1
    assert sel_f1.metric == "f1_macro" and sel_f1.score >= _check_selection(sel_f1, oof, y, "multiclass") > 0.9


def test_regression_selection_and_stacker(diabetes):
    oof, y = diabetes
    sel = select_ensemble(oof, y, "regression")
    best = _check_selection(sel, oof, y, "regression")
    assert sel.metric == "rmse" and 50 < sel.score <= best < 60  # diabetes: rmse ~ 55 for good models
    stacked = fit_stacker(oof, y, "regression", seed=0)
    assert stacked.names == list(oof) and 50 < stacked.score < 65
    assert stacked.score == pytest.approx(oof_score(y, stacked.prediction, "regression", "rmse"))
    assert stacker_wins(stacked, sel) == (stacked.score < sel.score)


def test_selection_and_stacker_are_deterministic(wine):
    oof, y = wine
    first, again = (select_ensemble(oof, y, "multiclass", "log_loss", rounds=30) for _ in range(2))
    assert first.weights == again.weights and first.history == again.history
    np.testing.assert_array_equal(first.prediction, again.prediction)
    s1, s2 = (fit_stacker(oof, y, "multiclass", "log_loss", seed=3) for _ in range(2))
    assert s1.score == s2.score
    np.testing.assert_array_equal(s1.model.coef_, s2.model.coef_)


def test_rounds_bound_the_ensemble_size(wine):
    oof, y = wine
    sel = select_ensemble(oof, y, "multiclass", "log_loss", rounds=3)
    assert len(sel.history) <= 3
    counts = np.array(list(sel.weights.values())) * len(sel.history)
    np.testing.assert_allclose(counts, np.round(counts))  # weights are counts over the rounds kept
    assert select_ensemble(oof, y, "multiclass", "log_loss", rounds=1).weights[sel.best_single] == 1.0


def test_the_stacker_is_scored_on_rows_it_was_not_fitted_on():
    """GENERATED noise: 40 'candidates' of random probabilities for the breast cancer labels. Fitted and scored
    on the same rows a stacker would look useful; its cross-validated score says it is not."""
    _, y = datasets.load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    noise = {f"noise{i}": np.column_stack([1 - (p := rng.uniform(0.05, 0.95, len(y))), p]) for i in range(40)}
    stacked = fit_stacker(noise, y, "binary", seed=0)
    from mlcli.models.ensemble import stack_features

    in_sample = stacked.model.predict_proba(stack_features(list(noise.values()), "binary"))
    assert oof_score(y, in_sample, "binary", "roc_auc") > 0.64
    assert 0.4 < stacked.score < 0.6


def test_fast_metrics_agree_with_the_metric_set_cv_reports(wine, diabetes):
    oof, y = wine
    out = oof["knn"]
    full = M.classification_metrics(y, out.argmax(axis=1), out, 3)
    for metric in ("roc_auc", "log_loss", "accuracy", "f1_macro", "mcc", "balanced_accuracy"):
        assert oof_score(y, out, "multiclass", metric) == pytest.approx(full[metric], abs=1e-6)
    _, y_bin = datasets.load_breast_cancer(return_X_y=True)
    out = cross_val_predict(GaussianNB(), datasets.load_breast_cancer().data, y_bin, cv=5, method="predict_proba")
    full = M.classification_metrics(y_bin, out.argmax(axis=1), out, 2)
    for metric in ("roc_auc", "pr_auc", "f1", "accuracy", "log_loss"):
        assert oof_score(y_bin, out, "binary", metric) == pytest.approx(full[metric], abs=1e-6)
    oof, y = diabetes
    full = M.regression_metrics(y, oof["knn"])
    for metric in ("rmse", "mae", "r2", "mape"):
        assert oof_score(y, oof["knn"], "regression", metric) == pytest.approx(full[metric], abs=1e-6)


def test_wrong_inputs_are_one_line_errors(wine):
    oof, y = wine
    with pytest.raises(ConfigError, match="'knn' have shape \\(10, 3\\); expected 178 rows"):
        select_ensemble({**oof, "knn": oof["knn"][:10]}, y, "multiclass")
    with pytest.raises(ConfigError, match="'nb' have missing values"):
        select_ensemble({**oof, "nb": np.where(oof["nb"] > 0.5, np.nan, oof["nb"])}, y, "multiclass")
    with pytest.raises(ConfigError, match="--metric 'rmse' is not reported for multiclass tasks"):
        select_ensemble(oof, y, "multiclass", metric="rmse")
    with pytest.raises(ConfigError, match="at least one candidate"):
        fit_stacker({}, y, "multiclass")


def test_a_stacker_that_cannot_finish_in_its_time_is_not_fitted():
    """Many classes: a logistic stacker over 3 members x 13 classes took 544 s of a 60-second auto run on the
    gauntlet's weather events. Timed by a 3-iteration probe first, it is left out when it would overrun."""
    from mlcli.experiments.auto.ensemble import stack_features, stacker_seconds

    rng = np.random.default_rng(0)
    y = rng.choice(13, size=3000, p=np.r_[0.6, np.full(12, 0.4 / 12)])
    oof = {f"m{i}#default": rng.dirichlet(np.ones(13), size=3000) * 0.5 + np.eye(13)[y] * 0.5 for i in range(3)}
    expected = stacker_seconds(stack_features(list(oof.values()), "multiclass"), y, "multiclass")
    assert expected > 0
    assert fit_stacker(oof, y, "multiclass", "f1_macro", seed=0, seconds=expected / 100) is None
    stacked = fit_stacker(oof, y, "multiclass", "f1_macro", seed=0, seconds=expected * 100)
    assert stacked is not None and stacked.score > 0.9  # the true class holds half of every member's mass
    assert stacker_seconds(np.zeros((10, 2)), np.zeros(10), "regression") == 0.0  # ridge: one solve
