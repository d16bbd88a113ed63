"""Imbalanced data: mlcli balance, --balance and --class-weight in train, threshold tuning."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE, assert_error

DEFAULT = SAMPLE / "default.csv"  # ISLR credit-card default: 3.3 % positive


@pytest.fixture
def imbalanced(tmp_path):
    """Generated: 600 rows, 8 % minority, numeric + categorical + integer columns."""
    rng = np.random.default_rng(5)
    n = 600
    y = (rng.random(n) < 0.08).astype(int)
    df = pd.DataFrame({
        "age": rng.integers(18, 90, size=n),
        "score": rng.normal(size=n) + 1.5 * y,
        "smoker": np.where(rng.random(n) < 0.3 + 0.4 * y, "yes", "no"),
        "region": rng.choice(["north", "south", "east"], size=n),
        "outcome": np.where(y == 1, "sick", "well"),
    })
    path = tmp_path / "imb.csv"
    df.to_csv(path, index=False)
    return path


def test_report_only(mlcli):
    r = mlcli("balance", DEFAULT, "--target", "default", "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {c["class"]: c["count"] for c in doc["before"]} == {"No": 9667, "Yes": 333}
    assert doc["imbalance_ratio_before"] == pytest.approx(29.03, abs=0.01)
    assert doc["after"] is None and any("PR AUC" in tip for tip in doc["advice"])


def test_smote_rows_keep_the_input_columns(mlcli, imbalanced, tmp_path):
    r = mlcli("balance", imbalanced, "--target", "outcome", "--method", "smote", "-o", "bal.csv", "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["method"] == "smote-nc"  # categorical columns present
    src = pd.read_csv(imbalanced)
    out = pd.read_csv(tmp_path / "bal.csv")
    assert list(out.columns) == list(src.columns) + ["mlcli_synthetic"]  # the rows balance made are marked
    counts = out["outcome"].value_counts()
    assert counts["sick"] == counts["well"] == (src["outcome"] == "well").sum()
    pd.testing.assert_frame_equal(out.iloc[:len(src)].drop(columns="mlcli_synthetic"), src)  # originals first
    assert (out["mlcli_synthetic"].iloc[:len(src)] == 0).all() and (out["mlcli_synthetic"].iloc[len(src):] == 1).all()
    new = out.iloc[len(src):]
    assert set(new["smoker"]) <= {"yes", "no"} and set(new["region"]) <= {"north", "south", "east"}
    assert pd.api.types.is_integer_dtype(out["age"]) and new["age"].between(18, 89).all()
    assert (new["outcome"] == "sick").all()


def test_rows_to_stdout_when_piped_feed_train(mlcli, imbalanced):
    r = mlcli("balance", imbalanced, "--target", "outcome", "--method", "oversample")
    assert r.exit_code == 0
    rows = pd.read_csv(io.StringIO(r.stdout))  # stdout holds only the CSV rows
    assert rows["outcome"].value_counts().nunique() == 1
    assert "class counts before" in r.stderr
    t = mlcli("train", "-", "--target", "outcome", "--model", "logreg", "--format", "json", input=r.stdout)
    assert t.exit_code == 0, t.stderr
    assert "were made by mlcli balance" in t.stderr  # train says it trains and tests on made rows
    warnings = json.loads(t.stdout)["warnings"]
    assert any("held-out rows were made by mlcli balance" in w for w in warnings)


def test_made_rows_keep_an_identifier_column_an_identifier(mlcli, tmp_path):
    """Titanic (real) with SMOTE-NC: the made rows get ids of their own, so PassengerId stays an identifier
    (dropped with a notice) instead of a column whose blanks give the minority class away."""
    r = mlcli("balance", SAMPLE / "titanic.csv", "--method", "smote", "--drop", "Name", "-o", "bal.csv", "-q",
              "-f", "json")
    assert r.exit_code == 0, r.stderr
    out = pd.read_csv(tmp_path / "bal.csv")
    made = out[out["mlcli_synthetic"] == 1]
    assert len(made) == 309 and made["PassengerId"].str.startswith("synthetic-").all()
    t = mlcli("train", "bal.csv", "--model", "logreg", "-f", "json")
    assert t.exit_code == 0, t.stderr
    doc = json.loads(t.stdout)
    roles = {c["name"]: c["role"] for c in doc["columns"]}
    assert roles["PassengerId"] == "identifier" and "mlcli_synthetic" not in roles
    assert not doc["leaks"] and any("309 of the 1618 rows" in w for w in doc["warnings"])


def test_the_original_file_gets_no_such_warning(mlcli):
    t = mlcli("train", SAMPLE / "titanic.csv", "--model", "logreg", "-f", "json")
    assert t.exit_code == 0 and "mlcli balance" not in t.stderr


@pytest.mark.parametrize("method", ["undersample", "nearmiss-1", "tomek", "enn", "cluster-centroids",
                                    "smote-tomek", "smote-enn", "adasyn", "borderline-smote"])
def test_every_method_runs_on_numeric_data(mlcli, imbalanced, method):
    r = mlcli("balance", imbalanced, "--target", "outcome", "--method", method, "--drop", "smoker,region",
              "--format", "csv")
    assert r.exit_code == 0, r.stderr
    out = pd.read_csv(io.StringIO(r.stdout))
    made = ["mlcli_synthetic"] if method in ("smote-tomek", "smote-enn", "adasyn", "borderline-smote",
                                             "cluster-centroids") else []  # centroids are made rows too
    assert list(out.columns) == ["age", "score", "smoker", "region", "outcome"] + made  # under-sampling: real rows
    assert set(out["outcome"]) == {"sick", "well"}
    if made:
        assert out["mlcli_synthetic"].sum() > 0 and set(out["mlcli_synthetic"]) == {0, 1}


def test_ratio(mlcli, imbalanced):
    r = mlcli("balance", imbalanced, "--target", "outcome", "--method", "oversample", "--ratio", "0.5",
              "--format", "csv")
    counts = pd.read_csv(io.StringIO(r.stdout))["outcome"].value_counts()
    assert counts["sick"] == pytest.approx(counts["well"] * 0.5, abs=1)


def test_already_balanced_is_written_unchanged(mlcli, tmp_path):
    df = pd.DataFrame({"x": [i * 1.5 for i in range(20)], "y": ["a", "b"] * 10})
    df.to_csv(tmp_path / "even.csv", index=False)
    r = mlcli("balance", "even.csv", "--method", "smote", "-o", "out.csv", "--format", "json")
    assert r.exit_code == 0
    assert "already balanced" in r.stderr
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out.csv"), df)


def test_minority_too_small_for_smote(mlcli, tmp_path):
    df = pd.DataFrame({"x": np.arange(40.0), "z": np.arange(40.0) ** 2, "y": ["a"] * 37 + ["b"] * 3})
    df.to_csv(tmp_path / "tiny.csv", index=False)
    assert_error(mlcli("balance", "tiny.csv", "--method", "smote"),
                 "needs at least 6 rows of every class (k_neighbors=5 + 1)", "class 'b' has 3",
                 "--param k_neighbors=2", "--balance oversample")
    assert mlcli("balance", "tiny.csv", "--method", "smote", "--param", "k_neighbors=2", "-f", "csv").exit_code == 0


def test_unknown_method_lists_them(mlcli, imbalanced):
    assert_error(mlcli("balance", imbalanced, "--method", "smot"), "unknown balance method 'smot'",
                 "did you mean 'smote'?", "methods: none, class-weight, oversample")


def test_regression_target_refused(mlcli, small_regression):
    assert_error(mlcli("balance", small_regression), "balance is for classification targets")
    assert_error(mlcli("train", small_regression, "--balance", "smote"), "--balance and --class-weight are for "
                 "classification")
    assert_error(mlcli("train", small_regression, "--class-weight", "balanced"), "are for classification")


def test_text_columns_cannot_be_synthesised(mlcli, tmp_path):
    words = ["good value", "bad service here", "would not come back", "excellent food and staff"]
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"review": [f"{rng.choice(words)} {i} and more words" for i in range(60)],
                       "x": rng.normal(size=60), "y": ["a"] * 50 + ["b"] * 10})
    df.to_csv(tmp_path / "t.csv", index=False)
    assert_error(mlcli("balance", "t.csv", "--method", "smote"), "cannot synthesise free-text or date column(s) review")


# ------------------------------------------------------------------------------------ train --balance

def _train(mlcli, *args):
    r = mlcli("train", DEFAULT, "--target", "default", "--format", "json", *args)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_train_reports_lead_with_the_minority_class(mlcli):
    doc = _train(mlcli, "--model", "logreg")
    m = doc["test"]["minority"]
    assert m["class"] == "Yes" and m["imbalance_ratio"] > 25
    assert {"precision", "recall", "f1", "pr_auc", "balanced_accuracy"} <= set(m)


def test_smote_in_train_raises_minority_recall(mlcli, tmp_path):
    plain = _train(mlcli, "--model", "logreg", "--out", "p")
    smote = _train(mlcli, "--model", "logreg", "--balance", "smote", "--out", "s")
    assert smote["balance"] == "smote"
    assert smote["test"]["minority"]["recall"] > plain["test"]["minority"]["recall"] + 0.3
    # the resampler is a fit-time step: the saved pipeline predicts every input row, no more, no fewer
    out = pd.read_csv(io.StringIO(mlcli("predict", "s", DEFAULT).stdout))
    assert len(out) == 10000
    meta = json.loads((tmp_path / "s" / "mlcli.json").read_text())
    assert meta["balance"] == "smote"


@pytest.mark.parametrize("model", ["xgboost", "lightgbm", "catboost", "rf", "logreg", "mlp"])
def test_class_weight_per_model(mlcli, model):
    """Each model's own mechanism is used, and it shows: minority recall rises well above the unweighted run."""
    param = {"catboost": "iterations=100", "mlp": "max_iter=200", "logreg": "C=1"}.get(model, "n_estimators=100")
    plain = _train(mlcli, "--model", model, "--param", param, "--out", "plain")
    doc = _train(mlcli, "--model", model, "--class-weight", "balanced", "--param", param, "--out", "weighted")
    assert doc["balance"] == "class-weight"
    assert doc["test"]["minority"]["recall"] > plain["test"]["minority"]["recall"] + 0.1, (plain, doc)


def test_class_weight_by_label(mlcli):
    doc = _train(mlcli, "--model", "logreg", "--class-weight", "No=1,Yes=20")
    assert doc["test"]["minority"]["recall"] > 0.6


def test_class_weight_errors(mlcli):
    assert_error(mlcli("train", DEFAULT, "-t", "default", "--model", "knn", "--class-weight", "balanced"),
                 "model 'knn' does not take class weights")
    assert_error(mlcli("train", DEFAULT, "-t", "default", "--model", "logreg", "--class-weight", "Maybe=3"),
                 "--class-weight names class 'Maybe'")
    assert_error(mlcli("train", DEFAULT, "-t", "default", "--class-weight", "Yes=-1"),
                 "--class-weight expects 'balanced' or CLASS=WEIGHT")


def test_resampler_params_and_typos(mlcli):
    doc = _train(mlcli, "--model", "logreg", "--balance", "smote", "--param", "k_neighbors=3")
    assert doc["balance"] == "smote"
    assert_error(mlcli("train", DEFAULT, "-t", "default", "--model", "logreg", "--balance", "smote",
                       "--param", "k_neighbor=3"), "did you mean 'k_neighbors'?")


def test_threshold_auto(mlcli, tmp_path):
    doc = _train(mlcli, "--model", "lightgbm", "--class-weight", "balanced", "--threshold", "auto", "--out", "t")
    tuning = doc["threshold_tuning"]
    assert 0 < tuning["threshold"] < 1 and "F1" in tuning["chosen_by"]
    assert set(tuning["at_0.5"]) == set(tuning["at_threshold"]) == {"precision", "recall", "f1",
                                                                     "balanced_accuracy"}
    meta = json.loads((tmp_path / "t" / "mlcli.json").read_text())
    assert meta["threshold"] == tuning["threshold"]
    ev = json.loads(mlcli("evaluate", "t", DEFAULT, "--format", "json").stdout)
    assert ev["threshold"] == tuning["threshold"]  # evaluate and predict use the stored threshold


def test_threshold_optimise_recall(mlcli):
    doc = _train(mlcli, "--model", "logreg", "--threshold", "auto", "--optimize", "recall=0.8")
    assert doc["threshold_tuning"]["threshold"] < 0.5
    assert doc["test"]["minority"]["recall"] > 0.65


def test_threshold_errors(mlcli, small_regression):
    assert_error(mlcli("train", DEFAULT, "-t", "default", "--threshold", "often"),
                 "--threshold must be a probability in (0, 1) or 'auto'")
    assert_error(mlcli("train", DEFAULT, "-t", "default", "--threshold", "auto", "--optimize", "speed"),
                 "unknown --optimize 'speed'")
    assert_error(mlcli("train", small_regression, "--threshold", "auto"), "binary classification only")


# ------------------------------------------------------------------------------------ cv --balance

def test_cv_compares_strategies_on_the_same_folds(mlcli, imbalanced):
    r = mlcli("cv", imbalanced, "--target", "outcome", "--models", "logreg", "--balance", "none,smote,class-weight",
              "--folds", "3", "--format", "json", "--quiet")
    assert r.exit_code == 0, r.stderr
    rows = {row["balance"]: row for row in json.loads(r.stdout)["leaderboard"] if row["model"] != "baseline"}
    assert set(rows) == {"none", "smote", "class-weight"}
    # resampling and weighting inside each training fold trade precision for minority recall
    # ('sick' sorts first, so the recall of the minority class 'sick' is the reported specificity)
    for strategy in ("smote", "class-weight"):
        assert rows[strategy]["mean"]["specificity"] > rows["none"]["mean"]["specificity"] + 0.1
        assert rows[strategy]["mean"]["balanced_accuracy"] > rows["none"]["mean"]["balanced_accuracy"]
    csv_out = mlcli("cv", imbalanced, "--target", "outcome", "--models", "logreg", "--balance", "none,smote",
                    "--folds", "3", "--format", "csv", "--quiet").stdout
    assert set(pd.read_csv(io.StringIO(csv_out))["balance"].dropna()) == {"none", "smote"}  # + the baseline


def test_cv_unknown_strategy(mlcli, imbalanced):
    assert_error(mlcli("cv", imbalanced, "--target", "outcome", "--models", "logreg", "--balance", "none,smoot"),
                 "unknown balance method 'smoot'", "did you mean 'smote'?")
