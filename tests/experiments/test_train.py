"""train / evaluate / predict end to end, with quality ranges on known data."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from conftest import SAMPLE


def train_json(mlcli, *args):
    r = mlcli("train", *args, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_logreg_on_breast_cancer_auc(mlcli, tmp_path):
    load_breast_cancer(as_frame=True).frame.to_csv(tmp_path / "bc.csv", index=False)
    doc = train_json(mlcli, "bc.csv", "--model", "logreg")
    assert doc["task"] == "binary" and doc["target"] == "target"
    assert doc["metrics"]["roc_auc"] > 0.98


def test_xgboost_on_titanic(mlcli, titanic, tmp_path):
    doc = train_json(mlcli, titanic, "--model", "xgboost", "--out", "tm")
    assert doc["target"] == "Survived"
    assert doc["metrics"]["accuracy"] > 0.75
    assert doc["metrics"]["roc_auc"] > 0.80
    # importances are reported per user column, not per one-hot dummy or TF-IDF term
    names = {i["feature"] for i in doc["importances"]}
    assert {"Sex", "Pclass", "Age"} <= names and all("__" not in n for n in names)
    assert abs(sum(i["importance"] for i in doc["importances"]) - 1) < 1e-3
    meta = json.loads((tmp_path / "tm" / "mlcli.json").read_text())
    assert meta["classes"] == [0, 1] and meta["task"] == "binary" and meta["model"] == "xgboost"
    assert meta["data"]["fingerprint"].startswith("sha256:")
    assert {c["name"] for c in meta["schema"]["columns"]} >= {"PassengerId", "Name", "Sex"}
    assert "xgboost-cpu" in meta["libraries"] or "xgboost" in meta["libraries"]


@pytest.mark.parametrize("model", ["lightgbm", "catboost", "rf"])
def test_other_models_on_titanic(mlcli, titanic, model):
    doc = train_json(mlcli, titanic, "--model", model)
    assert doc["metrics"]["accuracy"] > 0.74, doc["metrics"]


def test_multiclass_wine(mlcli):
    doc = train_json(mlcli, SAMPLE / "wine.csv", "--model", "logreg")
    assert doc["task"] == "multiclass"
    assert doc["metrics"]["f1_macro"] > 0.9
    assert len(doc["test"]["per_class"]) == 3
    assert len(doc["test"]["confusion_matrix"]) == 3


def test_multiclass_penguins_with_missing_values(mlcli):
    doc = train_json(mlcli, SAMPLE / "penguins.csv", "--target", "species", "--model", "lightgbm")
    assert doc["metrics"]["accuracy"] > 0.9


def test_regression_houseprices(mlcli):
    doc = train_json(mlcli, SAMPLE / "houseprices.csv", "--target", "price", "--model", "rf")
    assert doc["task"] == "regression"
    assert set(doc["metrics"]) == {"rmse", "mae", "r2", "mape"}
    assert doc["metrics"]["r2"] > 0.5


def test_regression_generated(mlcli, small_regression):
    doc = train_json(mlcli, small_regression, "--model", "ridge")
    assert doc["metrics"]["r2"] > 0.95


def test_params_reach_the_model(mlcli, titanic, tmp_path):
    from mlcli.models.bundle import load_bundle

    train_json(mlcli, titanic, "--model", "svm", "--param", "C=3", "--param", "kernel=rbf", "--out", "svm")
    pipe = load_bundle(tmp_path / "svm").pipeline
    svc = pipe.named_steps["model"].estimator
    assert svc.C == 3 and svc.kernel == "rbf"


def test_same_seed_same_metrics(mlcli, titanic):
    a = train_json(mlcli, titanic, "--model", "rf", "--seed", "7", "--out", "a")
    b = train_json(mlcli, titanic, "--model", "rf", "--seed", "7", "--out", "b")
    assert a["metrics"] == b["metrics"]


def test_default_out_is_printed(mlcli, small_binary, tmp_path):
    r = mlcli("train", small_binary, "--model", "logreg", "--format", "json")
    assert r.exit_code == 0
    assert "model bundle saved to models/small_binary-logreg" in r.stderr
    assert (tmp_path / "models" / "small_binary-logreg" / "mlcli.json").exists()


def test_table_report_names_the_bundle_once(mlcli, small_binary):
    r = mlcli("train", small_binary, "--model", "logreg", "--format", "table")
    assert r.exit_code == 0
    assert (r.stdout + r.stderr).lower().count("model bundle saved to") == 1


def test_piped_stdout_is_json_only(mlcli, small_binary):
    r = mlcli("train", small_binary, "--model", "logreg")  # CliRunner's stdout is not a terminal
    assert r.exit_code == 0
    json.loads(r.stdout)  # nothing but the JSON document on stdout
    assert "mlcli:" in r.stderr


def test_quiet_silences_stderr(mlcli, small_binary):
    r = mlcli("train", small_binary, "--model", "logreg", "--quiet")
    assert r.exit_code == 0 and r.stderr == ""


def test_table_format(mlcli, small_binary):
    r = mlcli("train", small_binary, "--model", "logreg", "--format", "table")
    assert r.exit_code == 0
    for text in ("Held-out metrics", "ROC AUC", "Confusion matrix", "Columns", "Model bundle saved"):
        assert text in r.stdout


def test_test_file_instead_of_split(mlcli, small_binary, tmp_path):
    df = pd.read_csv(small_binary)
    df.iloc[:150].to_csv(tmp_path / "tr.csv", index=False)
    df.iloc[150:].to_csv(tmp_path / "te.csv", index=False)
    doc = train_json(mlcli, "tr.csv", "--test", "te.csv", "--model", "logreg")
    assert doc["rows"] == {"train": 150, "test": 50, "dropped_missing_target": 0}


def test_preprocessing_options(mlcli, small_binary):
    for opts in (["--scale", "minmax"], ["--scale", "robust"], ["--poly", "2"], ["--pca", "2"]):
        doc = train_json(mlcli, small_binary, "--model", "logreg", *opts)
        assert doc["metrics"]["roc_auc"] > 0.7, opts


def test_stdin_training(mlcli, small_binary):
    r = mlcli("train", "-", "--model", "logreg", "--format", "json", input=small_binary.read_bytes())
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["rows"]["train"] == 160


@pytest.fixture
def titanic_bundle(mlcli, titanic):
    train_json(mlcli, titanic, "--model", "lightgbm", "--out", "tb")
    return "tb"


def test_evaluate_matches_training_metrics(mlcli, titanic, titanic_bundle):
    r = mlcli("evaluate", titanic_bundle, titanic, "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["rows"] == 1309 and doc["metrics"]["accuracy"] > 0.8
    assert len(doc["confusion_matrix"]) == 2


def test_predict_from_stdin_with_keep(mlcli, titanic, titanic_bundle):
    data = pd.read_csv(titanic).drop(columns=["Survived"]).head(25)
    r = mlcli("predict", titanic_bundle, "-", "--keep", "PassengerId", input=data.to_csv(index=False))
    assert r.exit_code == 0, r.stderr
    out = pd.read_csv(io.StringIO(r.stdout))
    assert list(out.columns) == ["PassengerId", "prediction", "proba_0", "proba_1"]
    assert len(out) == 25 and out["PassengerId"].tolist() == data["PassengerId"].tolist()
    assert ((out["proba_0"] + out["proba_1"] - 1).abs() < 1e-5).all()
    assert set(out["prediction"]) <= {0, 1}


def test_predict_threshold_moves_predictions(mlcli, titanic, titanic_bundle):
    low = pd.read_csv(io.StringIO(mlcli("predict", titanic_bundle, titanic, "--threshold", "0.05").stdout))
    high = pd.read_csv(io.StringIO(mlcli("predict", titanic_bundle, titanic, "--threshold", "0.95").stdout))
    assert low["prediction"].sum() > high["prediction"].sum()


def test_predict_json_and_output_file(mlcli, titanic, titanic_bundle, tmp_path):
    r = mlcli("predict", titanic_bundle, titanic, "--format", "json")
    rows = json.loads(r.stdout)
    assert len(rows) == 1309 and "prediction" in rows[0]
    r = mlcli("predict", titanic_bundle, titanic, "-o", "p.csv")
    assert r.exit_code == 0 and r.stdout == ""
    assert len(pd.read_csv(tmp_path / "p.csv")) == 1309


def test_predict_string_labels_decoded(mlcli, small_binary):
    train_json(mlcli, small_binary, "--model", "logreg", "--out", "sb")
    out = pd.read_csv(io.StringIO(mlcli("predict", "sb", small_binary).stdout))
    assert set(out["prediction"]) <= {"yes", "no"} and "proba_yes" in out.columns


def test_regression_predict(mlcli, small_regression):
    train_json(mlcli, small_regression, "--model", "lightgbm", "--out", "reg")
    out = pd.read_csv(io.StringIO(mlcli("predict", "reg", small_regression).stdout))
    assert list(out.columns) == ["prediction"] and len(out) == 200


def test_unknown_category_at_predict_time(mlcli, small_binary, tmp_path):
    train_json(mlcli, small_binary, "--model", "logreg", "--out", "sb")
    df = pd.read_csv(small_binary)
    df.loc[:5, "color"] = "ultraviolet"
    df.to_csv(tmp_path / "new.csv", index=False)
    r = mlcli("predict", "sb", "new.csv")
    assert r.exit_code == 0 and len(pd.read_csv(io.StringIO(r.stdout))) == 200


def test_models_command(mlcli):
    r = mlcli("models", "--format", "json")
    rows = {m["name"]: m for m in json.loads(r.stdout)}
    assert {"logreg", "svm", "xgboost", "lightgbm", "catboost", "knn", "mlp", "hgb"} <= set(rows)
    assert rows["nb-gaussian"]["tasks"] == ["binary", "multiclass"]
    assert rows["xgboost"]["installed"] is True
    r = mlcli("models", "svm", "--format", "json")
    assert "C" in json.loads(r.stdout)["params"]
