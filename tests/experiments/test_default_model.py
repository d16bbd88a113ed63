"""train without --model: boosted trees for tables, a linear model when free text is half the columns or more,
CatBoost for small multiclass tables (the choices measured on the gauntlet's files; here the rules themselves,
on generated reviews — labelled so — and the real Titanic, iris and penguins files)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from conftest import SAMPLE, review_frame


def _train(mlcli, *args):
    r = mlcli("train", *args, "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout), r.stderr


def test_text_dominated_data_gets_the_linear_default(mlcli, tmp_path):
    path = tmp_path / "reviews.csv"
    review_frame(200).drop(columns=["id", "stars"]).to_csv(path, index=False)  # GENERATED: one text column
    doc, err = _train(mlcli, path, "--target", "score")
    assert doc["model"] == "logreg" and "model: logreg — the default when free text is most of the data" in err
    assert doc["metrics"]["roc_auc"] > 0.9
    doc, err = _train(mlcli, path, "--target", "score", "--model", "xgboost")  # asked for: kept
    assert doc["model"] == "xgboost" and "the default when free text" not in err


def test_a_table_with_one_text_column_keeps_the_trees(mlcli, tmp_path):
    doc, err = _train(mlcli, SAMPLE / "titanic.csv")  # Name is text, five other columns are not
    assert doc["model"] == "xgboost" and "free text" not in err
    frame = review_frame(200).drop(columns=["id"])  # GENERATED: text + a number: half the columns are text
    frame["price"] = np.random.default_rng(0).uniform(1, 20, len(frame))
    frame.drop(columns=["stars"]).to_csv(tmp_path / "r2.csv", index=False)
    assert _train(mlcli, tmp_path / "r2.csv", "--target", "score")[0]["model"] == "logreg"
    frame["rating"] = frame["stars"]
    frame["size"] = np.arange(len(frame)) % 3
    frame.drop(columns=["stars"]).to_csv(tmp_path / "r3.csv", index=False)  # 1 text of 4 columns
    assert _train(mlcli, tmp_path / "r3.csv", "--target", "score")[0]["model"] == "xgboost"


def test_a_param_without_a_model_keeps_the_model_it_belongs_to(mlcli, tmp_path):
    path = tmp_path / "reviews.csv"
    review_frame(200).drop(columns=["id", "stars"]).to_csv(path, index=False)
    doc, _ = _train(mlcli, path, "--target", "score", "--param", "max_depth=3")
    assert doc["model"] == "xgboost" and doc["params"]["max_depth"] == 3


def test_a_small_multiclass_table_gets_catboost_and_a_larger_one_xgboost(mlcli, tmp_path):
    doc, err = _train(mlcli, SAMPLE / "iris.csv", "--target", "species")
    assert doc["model"] == "catboost" and doc["task"] == "multiclass" and doc["metrics"]["f1_macro"] > 0.85
    assert ("model: catboost — the default for multiclass tables of fewer than 3,000 training rows (120 here)"
            in err and "--model xgboost for XGBoost" in err)
    doc, err = _train(mlcli, SAMPLE / "iris.csv", "--target", "species", "--model", "xgboost")  # asked for: kept
    assert doc["model"] == "xgboost" and "the default for multiclass" not in err
    doc, err = _train(mlcli, SAMPLE / "titanic.csv")  # binary: the small-data XGBoost stays
    assert doc["model"] == "xgboost" and "the default for multiclass" not in err
    rng = np.random.default_rng(0)  # GENERATED: 4,000 rows, 3 classes (3,200 training rows)
    x = rng.normal(size=(4000, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["kind"] = np.array(["low", "mid", "high"])[np.digitize(x[:, 0] + 0.5 * x[:, 1], [-0.5, 0.5])]
    frame.to_csv(tmp_path / "big.csv", index=False)
    doc, err = _train(mlcli, tmp_path / "big.csv", "--target", "kind")
    assert doc["model"] == "xgboost" and "the default for multiclass" not in err


def test_binary_and_regression_tables_of_3000_training_rows_or_more_get_catboost(mlcli, tmp_path):
    doc, err = _train(mlcli, SAMPLE / "default.csv", "--target", "default")  # real: 10,000 rows, 8,000 to fit
    assert doc["model"] == "catboost" and doc["metrics"]["roc_auc"] > 0.9
    assert ("model: catboost — the default for binary and regression tables of 3,000 training rows or more "
            "(8,000 here): ahead of XGBoost on 7 of the gauntlet's 8 such files" in err)
    doc, err = _train(mlcli, SAMPLE / "default.csv", "--target", "default", "--test-size", "0.7")  # 3,000 to fit
    assert doc["model"] == "catboost"
    doc, err = _train(mlcli, SAMPLE / "default.csv", "--target", "default", "--test-size", "0.71")  # 2,900
    assert doc["model"] == "xgboost" and "the default for binary" not in err
    rng = np.random.default_rng(1)  # GENERATED regression, 4,000 rows
    x = rng.normal(size=(4000, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["y"] = 3 * x[:, 0] - x[:, 1] ** 2 + rng.normal(scale=0.5, size=4000)
    frame.to_csv(tmp_path / "reg.csv", index=False)
    doc, err = _train(mlcli, tmp_path / "reg.csv", "--target", "y")
    assert doc["model"] == "catboost" and doc["task"] == "regression" and doc["metrics"]["r2"] > 0.8
