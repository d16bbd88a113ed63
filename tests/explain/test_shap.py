"""SHAP for every kind of model: contributions per user column that add up to the model's own output.

Additivity (base value + contributions == the explained model output, for every row) is checked against
the output computed directly from the model: the margin (log-odds / raw score) for gradient boosting and
logistic models, the probability for forests and model-agnostic classifiers, the prediction for regressors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE, cli

TITANIC = SAMPLE / "titanic.csv"
IRIS = SAMPLE / "iris.csv"
FAST = {"xgboost": ["n_estimators=40"], "lightgbm": ["n_estimators=40"], "catboost": ["iterations=40"],
        "rf": ["n_estimators=30"], "extratrees": ["n_estimators=30"], "hgb": ["max_iter=40"],
        "mlp": ["max_iter=200"]}


def _train(data, model: str, target: str, out) -> None:
    params = [a for p in FAST.get(model, []) for a in ("--param", p)]
    r = cli("train", data, "--model", model, "--target", target, "--out", out, "-q", "-f", "json", *params)
    assert r.exit_code == 0, r.stderr


@pytest.fixture(scope="module")
def regression_csv(tmp_path_factory):
    """Generated: y = 3a - 2b + 2*(grp == 'p') + noise, with some missing values in b."""
    rng = np.random.default_rng(1)
    n = 160
    a, b = rng.normal(size=n), rng.normal(size=n)
    grp = rng.choice(["p", "q"], size=n)
    y = 3 * a - 2 * b + (grp == "p") * 2 + rng.normal(scale=0.3, size=n)
    df = pd.DataFrame({"a": a, "b": b, "grp": grp, "y": y})
    df.loc[::13, "b"] = np.nan
    path = tmp_path_factory.mktemp("reg") / "reg.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def explained(tmp_path_factory, regression_csv):
    """explained(model, dataset) -> (ShapValues, feature frame, bundle), cached per module."""
    from mlcli.data.read import read_table
    from mlcli.data.schema import check_against_schema
    from mlcli.explain.shap import shap_values
    from mlcli.models.bundle import load_bundle

    root = tmp_path_factory.mktemp("shap-bundles")
    data = {"titanic": (TITANIC, "Survived"), "iris": (IRIS, "species"), "reg": (regression_csv, "y")}
    cache: dict[tuple[str, str], tuple] = {}

    def get(model: str, dataset: str):
        if (model, dataset) not in cache:
            path, target = data[dataset]
            out = root / f"{model}-{dataset}"
            _train(path, model, target, out)
            b = load_bundle(out)
            X = check_against_schema(read_table(str(path)), b.schema).sample(60, random_state=0)
            X = X.reset_index(drop=True)
            sv = shap_values(b.pipeline, b.schema, X, b.task, b.classes, background=X.head(20), seed=0)
            cache[(model, dataset)] = (sv, X, b)
        return cache[(model, dataset)]

    return get


CASES = [
    # binary: each library's own TreeSHAP, shap's TreeExplainer, and the model-agnostic explainer
    ("xgboost", "titanic", "log-odds"), ("lightgbm", "titanic", "log-odds"), ("catboost", "titanic", "log-odds"),
    ("rf", "titanic", "probability"), ("tree", "titanic", "probability"),
    ("logreg", "titanic", "log-odds"), ("knn", "titanic", "probability"), ("svm", "titanic", "probability"),
    # multiclass: one output per class
    ("xgboost", "iris", "raw score"), ("lightgbm", "iris", "raw score"), ("catboost", "iris", "raw score"),
    ("rf", "iris", "probability"), ("hgb", "iris", "raw score"), ("logreg", "iris", "raw score"),
    ("nb-gaussian", "iris", "probability"),
    # regression
    ("xgboost", "reg", "prediction"), ("lightgbm", "reg", "prediction"), ("catboost", "reg", "prediction"),
    ("extratrees", "reg", "prediction"), ("hgb", "reg", "prediction"), ("ridge", "reg", "prediction"),
    ("knn", "reg", "prediction"),
]


@pytest.mark.parametrize("model, dataset, kind", CASES, ids=[f"{m}-{d}" for m, d, _ in CASES])
def test_additivity(explained, model, dataset, kind):
    sv, X, b = explained(model, dataset)
    n = len(X)
    k = len(b.classes) if b.task == "multiclass" else 1
    assert sv.kind == kind
    assert sv.values.shape == (n, k, len(X.columns)) and sv.base.shape == (n, k) and sv.output.shape == (n, k)
    assert set(sv.columns) == set(X.columns)  # one contribution per user column, nothing per dummy or term
    np.testing.assert_allclose(sv.base + sv.values.sum(axis=-1), sv.output, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("model, dataset", [("xgboost", "titanic"), ("lightgbm", "iris"), ("catboost", "titanic"),
                                            ("logreg", "titanic"), ("rf", "titanic"), ("knn", "reg")])
def test_explained_output_is_the_models_own(explained, model, dataset):
    """The output SHAP explains is what the model itself predicts (margin or probability)."""
    from mlcli.features.provenance import model_input as transform
    from mlcli.models.steps import final_model

    sv, X, b = explained(model, dataset)
    est = final_model(b.pipeline)
    Xt = transform(b.pipeline, X)
    if sv.kind == "probability":
        expected = b.pipeline.predict_proba(X)[:, 1:] if b.task == "binary" else b.pipeline.predict_proba(X)
    elif sv.kind == "prediction":
        expected = b.pipeline.predict(X)
    elif model == "xgboost":
        expected = est.predict(Xt, output_margin=True)
    elif model == "lightgbm":
        expected = est.predict(Xt, raw_score=True)
    elif model == "catboost":
        expected = est.predict(Xt, prediction_type="RawFormulaVal")
    else:
        expected = b.pipeline.decision_function(X)
    np.testing.assert_allclose(sv.output, np.asarray(expected, dtype=float).reshape(len(X), -1), rtol=1e-5,
                               atol=1e-6)


def test_model_agnostic_matches_the_slow_path(explained, monkeypatch):
    """Masking columns in feature space (precomputed blocks) gives what masking the raw rows gives."""
    from mlcli.explain import shap_kernel
    from mlcli.explain.shap import shap_values

    sv, X, b = explained("logreg", "titanic")
    with monkeypatch.context() as m:
        m.setattr(shap_kernel, "_blocks", lambda *a: None)  # force preprocessing every masked row again
        slow = shap_values(b.pipeline, b.schema, X, b.task, b.classes, background=X.head(20), seed=0)
    np.testing.assert_allclose(slow.values, sv.values, atol=1e-8)


def test_direction_and_ranking_on_titanic(explained):
    from mlcli.explain.shap import shap_summary

    sv, X, b = explained("xgboost", "titanic")
    res = shap_summary(sv, X, b.schema)
    feats = {f.name: f for f in res.features}
    assert feats["Sex"].direction == "highest for female"
    assert feats["Pclass"].direction == "-"
    assert {f.name for f in res.features[:3]} <= {"Sex", "Pclass", "Name", "Age"}
    assert all(f.spread is not None and f.spread >= 0 for f in res.features)


def test_linear_model_shap_matches_its_coefficients(explained):
    """For a linear model the exact SHAP value of a standardised numeric column is coef * (x - mean(x_bg))."""
    from mlcli.features.provenance import model_input as transform
    from mlcli.models.steps import final_model

    sv, X, b = explained("ridge", "reg")
    est = final_model(b.pipeline)
    Xt = np.asarray(transform(b.pipeline, X))
    bg = Xt[:20]
    j = list(X.columns).index("a")
    # the numeric branch comes first: feature 0 is 'a'
    expected = est.coef_[0] * (Xt[:, 0] - bg[:, 0].mean())
    np.testing.assert_allclose(sv.values[:, 0, j], expected, atol=1e-6)


def test_cli_shap_on_a_sample_of_rows(tmp_path):
    import json

    _train(TITANIC, "knn", "Survived", tmp_path / "knn")
    r = cli("explain", tmp_path / "knn", TITANIC, "-m", "shap", "--sample", "40", "--background", "15", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    res = doc["methods"]["shap"]
    assert res["rows"] == 40 and "KernelExplainer" in res["explainer"] and "15 background rows" in res["explainer"]
    assert res["output"] == "probability of Survived=1"
    assert "SHAP on a random sample of 40 of 1309 rows" in r.stderr
    assert {f["name"] for f in doc["features"]} == {"Name", "Pclass", "Sex", "Age", "SibSp", "Parch"}
