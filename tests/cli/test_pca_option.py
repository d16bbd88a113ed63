"""--pca K asks for K principal components. As scikit-learn's PCA (n_components above min(n_samples,
n_features) is an error), K above what the training rows allow is refused with exit 2 and the largest K that
fits, never capped in silence (the bundle recorded K while the model used fewer). Generated data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import assert_error, error_line


@pytest.fixture
def rows300(tmp_path):
    """Generated: 300 rows; two numeric columns and a categorical one of three values: 5 features once encoded."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "c": rng.choice(list("xyz"), 300)})
    df["label"] = np.where(df.a + rng.normal(size=300) > 0, "yes", "no")
    df.to_csv(tmp_path / "rows300.csv", index=False)
    return tmp_path / "rows300.csv"


@pytest.fixture
def wide(tmp_path):
    """Generated: 30 rows of 40 numeric columns: the rows are the limit."""
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(30, 40)), columns=[f"x{i}" for i in range(40)])
    df["label"] = np.where(df.x0 > 0, "yes", "no")
    df.to_csv(tmp_path / "wide.csv", index=False)
    return tmp_path / "wide.csv"


def test_train_refuses_more_components_than_the_features(mlcli, rows300, tmp_path):
    r = mlcli("train", rows300, "--model", "logreg", "--pca", "500", "--out", tmp_path / "m", "-q")
    assert error_line(r) == ("--pca 500: PCA finds at most 5 components here (240 training rows, 5 features after "
                             "encoding); give --pca 5 or less")
    assert not (tmp_path / "m").exists()


def test_train_refuses_more_components_than_the_training_rows(mlcli, wide, tmp_path):
    r = mlcli("train", wide, "--model", "logreg", "--pca", "30", "--no-leak-check", "--out", tmp_path / "m", "-q")
    assert error_line(r) == ("--pca 30: PCA finds at most 24 components here (24 training rows, 40 features after "
                             "encoding); give --pca 24 or less")


def test_the_largest_k_that_fits_is_used_and_recorded(mlcli, rows300, tmp_path):
    r = mlcli("train", rows300, "--model", "logreg", "--pca", "5", "--out", tmp_path / "m", "-q", "--format", "json")
    assert r.exit_code == 0, r.stderr
    meta = json.loads((tmp_path / "m" / "mlcli.json").read_text())
    assert meta["preprocess"]["pca"] == 5
    assert [row["feature"] for row in json.loads(r.stdout)["importances"]] == \
        [f"(PCA component {i})" for i in range(1, 6)]


def test_cv_and_tune_refuse_it_too(mlcli, rows300):
    r = mlcli("cv", rows300, "--models", "logreg,knn", "--pca", "500", "--folds", "3", "--no-leak-check", "-q")
    assert error_line(r) == ("every model failed; logreg: DataError: --pca 500: PCA finds at most 5 components here "
                             "(200 training rows, 5 features after encoding); give --pca 5 or less")
    r = mlcli("tune", rows300, "--model", "logreg", "--pca", "500", "--folds", "3", "--trials", "2",
              "--no-leak-check")
    assert_error(r, "every trial failed; trial 0: DataError: --pca 500: PCA finds at most 5 components here "
                    "(200 training rows, 5 features after encoding); give --pca 5 or less")
