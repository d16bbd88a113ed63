"""Warnings from the held-out scores, each tested on real data that has the problem and on data that does
not: probabilities worse than the baseline's (log loss, a proper scoring rule, where ROC AUC looks fine), a
regression worse than the mean, and a rarely found minority class with what to try."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE


def train_json(mlcli, *args):
    r = mlcli("train", *args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout), r.stderr


@pytest.fixture
def titanic_small(tmp_path):
    """The first 800 passengers of sample_data/titanic.csv (real): 640 training rows, as in Kaggle's file,
    below the 1,000 rows where the boosters' early stopping starts."""
    path = tmp_path / "titanic800.csv"
    pd.read_csv(SAMPLE / "titanic.csv").iloc[:800].to_csv(path, index=False)
    return path


def test_an_overconfident_booster_is_called_overfit_by_its_log_loss(mlcli, titanic_small):
    doc, err = train_json(mlcli, titanic_small, "--model", "lightgbm", "--param", "n_estimators=300")  # fixed count
    proper = doc["gap"]["proper"]
    assert proper["metric"] == "log_loss" and proper["worse_than_baseline"]
    assert proper["test"] > proper["baseline"] > proper["train"]
    assert doc["gap"]["overfitting"] and doc["metrics"]["roc_auc"] > 0.75  # ROC AUC alone looks fine
    line = next(w for w in doc["warnings"] if w.startswith("held-out log loss"))
    assert "worse than the baseline's" in line and "overconfident" in line and "the fit failed" not in line
    assert "mlcli: warning: held-out log loss" in err
    meta = json.loads((Path(doc["bundle"]) / "mlcli.json").read_text())
    assert line in meta["warnings"]  # kept in the bundle: the HTML report shows it


def test_the_default_booster_stops_on_inner_folds_and_is_not_overfit(mlcli, titanic_small):
    doc, err = train_json(mlcli, titanic_small, "--model", "lightgbm")
    assert doc["early_stopping"]["inner_folds"] == 3 and doc["early_stopping"]["iterations"] < 100
    assert not doc["gap"]["proper"]["worse_than_baseline"] and "log loss" not in err


def test_a_calibrated_linear_model_on_the_same_rows_gets_no_such_warning(mlcli, titanic_small):
    doc, err = train_json(mlcli, titanic_small, "--model", "logreg")
    assert not doc["gap"]["proper"]["worse_than_baseline"] and not doc["gap"]["overfitting"]
    assert not any("log loss" in w for w in doc["warnings"]) and "log loss" not in err


def test_a_regression_worse_than_the_mean_is_told(mlcli, tmp_path):
    """GENERATED: a target of pure noise, which a deep tree memorises."""
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.csv"
    pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300),
                  "y": rng.normal(size=300)}).to_csv(path, index=False)
    doc, _ = train_json(mlcli, path, "--model", "tree", "--target", "y")
    assert doc["metrics"]["r2"] < 0 and any(w.startswith("held-out R² ") for w in doc["warnings"])
    doc, _ = train_json(mlcli, SAMPLE / "houseprices.csv", "--model", "rf")  # real, learnable: quiet
    assert doc["metrics"]["r2"] > 0.4 and not any("R²" in w for w in doc["warnings"])


def test_a_rarely_found_minority_class_gets_the_remedies(mlcli):
    """ISLR's Default (real, 3.3 % defaults): at threshold 0.5 most defaults are missed."""
    doc, _ = train_json(mlcli, SAMPLE / "default.csv", "--model", "lightgbm")
    line = next(w for w in doc["warnings"] if w.startswith("the minority class 'Yes'"))
    assert doc["test"]["minority"]["recall"] < 0.5
    assert "--threshold auto" in line and "--class-weight balanced" in line and "--balance smote" in line
    doc, _ = train_json(mlcli, SAMPLE / "default.csv", "--model", "lightgbm", "--class-weight", "balanced")
    assert doc["test"]["minority"]["recall"] > 0.5  # the remedy works, and the advice is gone
    assert not any(w.startswith("the minority class") for w in doc["warnings"])


def test_balanced_classes_get_no_minority_advice(mlcli):
    doc, _ = train_json(mlcli, SAMPLE / "titanic.csv", "--model", "lightgbm")  # 38 % survived
    assert not any(w.startswith("the minority class") for w in doc["warnings"])
