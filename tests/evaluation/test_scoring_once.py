"""Each set of rows is scored once by `train`: prediction, not bookkeeping, is what a large model costs.

A 26-class LightGBM model is 26 trees a boosting round, so scoring is as dear as fitting: predicting the
held-out rows twice, once per class or per chunk of rows would double or multiply train's time. These tests
count the model's predictions instead of timing them (benchmarks/many_classes.py times them).
"""

from __future__ import annotations

import json
import string

import numpy as np
import pandas as pd
import pytest


def letters_frame(n_per_class: int = 30, seed: int = 0) -> pd.DataFrame:
    """GENERATED: a letter-recognition-shaped file, the class (A-Z) first, 16 small integers that depend on it."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(26), n_per_class)
    centres = rng.uniform(2, 13, size=(26, 16))
    X = np.clip(np.rint(centres[y] + rng.normal(0, 2.0, size=(len(y), 16))), 0, 15).astype(int)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(16)])
    frame.insert(0, "lettr", np.array(list(string.ascii_uppercase))[y])
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.fixture
def booster_calls(monkeypatch):
    """(rows, num_threads) of every LightGBM prediction made while the test runs."""
    lightgbm = pytest.importorskip("lightgbm")
    calls: list[tuple[int, int | None]] = []
    original = lightgbm.Booster.predict

    def counting(self, data, *args, **kwargs):
        calls.append((data.shape[0], kwargs.get("num_threads")))
        return original(self, data, *args, **kwargs)

    monkeypatch.setattr(lightgbm.Booster, "predict", counting)
    return calls


def test_26_class_lightgbm_scores_held_out_and_training_rows_once_each(mlcli, tmp_path, booster_calls):
    letters_frame().to_csv(tmp_path / "letters.csv", index=False)  # GENERATED
    r = mlcli("train", "letters.csv", "--model", "lightgbm", "--param", "n_estimators=10", "--threads", "2",
              "--out", "b", "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["task"] == "multiclass" and len(doc["test"]["classes"]) == 26
    n_test, n_train = doc["rows"]["test"], doc["rows"]["train"]
    # one call for all held-out rows, one for all training rows: never per class, per chunk or twice
    assert [rows for rows, _ in booster_calls] == [n_test, n_train]
    # the model's threads reach LightGBM at predict time as they do at fit time
    assert [threads for _, threads in booster_calls] == [2, 2]
    assert doc["metrics"]["accuracy"] > 0.5 and doc["train_metrics"]["accuracy"] >= doc["metrics"]["accuracy"]


def test_threshold_auto_scores_held_out_rows_once(mlcli, tmp_path, monkeypatch):
    """--threshold auto reports the held-out metrics at the chosen threshold and at 0.5 from one prediction."""
    from sklearn.linear_model import LogisticRegression

    rows: list[int] = []
    original = LogisticRegression.predict_proba

    def counting(self, X):
        rows.append(X.shape[0])
        return original(self, X)

    monkeypatch.setattr(LogisticRegression, "predict_proba", counting)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(500, 4)), columns=list("abcd"))  # GENERATED
    frame["target"] = (frame["a"] - frame["b"] + rng.normal(size=500) > 0.8).astype(int)
    frame.to_csv(tmp_path / "binary.csv", index=False)
    r = mlcli("train", "binary.csv", "--model", "logreg", "--threshold", "auto", "--out", "b", "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    tuning = doc["threshold_tuning"]
    assert set(tuning["at_0.5"]) == set(tuning["at_threshold"]) == {"precision", "recall", "f1", "balanced_accuracy"}
    assert tuning["at_threshold"]["f1"] == doc["metrics"]["f1"]
    assert rows.count(doc["rows"]["test"]) == 1, rows  # out-of-fold predictions come in folds of other sizes
    assert rows.count(doc["rows"]["train"]) == 1, rows
