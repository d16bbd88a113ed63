"""mlcli anomalies on real imbalanced data: the ISLR credit-card file (sample_data/default.csv, 3.3 % defaults)
and scikit-learn's bundled breast-cancer set with the malignant class cut down to 20 rows (a real-data subsample
made here, labelled so). Scores against the known anomalies beat the no-skill level; flags, reasons, output,
figures, bad input."""

from __future__ import annotations

import importlib.util
import io
import json

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE, assert_error

DEFAULT = SAMPLE / "default.csv"  # 10,000 card holders, 333 defaults
IRIS = SAMPLE / "iris.csv"


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    """Breast cancer (Wisconsin, bundled with scikit-learn): all 357 benign tumours and a seeded 20 of the 212
    malignant ones (5.3 %), shuffled."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame["diagnosis"] = frame.pop("target").map({0: "malignant", 1: "benign"})
    sub = pd.concat([frame[frame.diagnosis == "benign"],
                     frame[frame.diagnosis == "malignant"].sample(20, random_state=0)]).sample(frac=1, random_state=0)
    path = tmp_path_factory.mktemp("cancer") / "cancer_subsampled.csv"
    sub.to_csv(path, index=False)
    return path


def _run(mlcli, *args):
    result = mlcli("anomalies", *args, "-o", "rows.csv", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), pd.read_csv("rows.csv")


def test_isolation_forest_finds_defaults_well_above_no_skill(mlcli):
    doc, rows = _run(mlcli, DEFAULT, "--label", "default", "--keep", "default")
    lab = doc["label"]
    assert lab["positive"] == "Yes" and lab["known"] == 333 and lab["no_skill_pr_auc"] == pytest.approx(0.0333)
    assert lab["pr_auc"] >= 3 * lab["no_skill_pr_auc"]  # measured 0.213 vs 0.033
    assert lab["roc_auc"] > 0.75
    assert "default" not in doc["columns"]
    assert doc["flagged"] == 500 and rows["anomaly"].sum() == 500
    flagged = rows.loc[rows["anomaly"] == 1, "anomaly_score"]
    assert flagged.min() >= rows.loc[rows["anomaly"] == 0, "anomaly_score"].max()
    assert flagged.min() == pytest.approx(doc["threshold"], abs=1e-6)
    assert lab["precision_at_flag"] == pytest.approx((rows.loc[rows["anomaly"] == 1, "default"] == "Yes").mean(),
                                                     abs=1e-4)


def test_top_rows_name_the_columns_that_make_them_unusual(mlcli):
    doc, rows = _run(mlcli, DEFAULT, "--top", "5")
    data = pd.read_csv(DEFAULT)
    assert [r["row"] for r in doc["top"]] == (rows["anomaly_score"].nlargest(5).index + 1).tolist()
    for r in doc["top"]:
        first = r["unusual"][0]
        assert first["column"] in ("balance", "income") and abs(first["score"]) >= 1.0
        assert first["value"] == pytest.approx(data.loc[r["row"] - 1, first["column"]], rel=1e-4)


@pytest.mark.parametrize("method", ["isolation-forest", "lof", "one-class-svm",
                                    pytest.param("autoencoder", marks=pytest.mark.skipif(
                                        importlib.util.find_spec("torch") is None, reason="torch not installed"))])
def test_every_method_beats_no_skill_on_subsampled_breast_cancer(mlcli, cancer, method):
    doc, rows = _run(mlcli, cancer, "--method", method, "--label", "diagnosis", "--contamination", "0.05")
    lab = doc["label"]
    assert lab["positive"] == "malignant" and lab["known"] == 20
    assert lab["pr_auc"] > 2 * lab["no_skill_pr_auc"], lab
    assert lab["roc_auc"] > 0.65
    assert len(rows) == 377 and doc["flagged"] == 19
    if method == "autoencoder":  # early stopping on a held-out tenth keeps the best epoch
        fit = doc["fit"]
        assert 1 <= fit["best_epoch"] <= fit["epochs"] <= 200 and fit["validation_loss"] > 0


def test_label_with_more_values_needs_positive(mlcli):
    assert_error(mlcli("anomalies", IRIS, "--label", "species"), "has 3 values", "--positive VALUE")
    doc, _ = _run(mlcli, IRIS, "--label", "species", "--positive", "setosa")
    assert doc["label"]["known"] == 50 and doc["label"]["no_skill_pr_auc"] == pytest.approx(1 / 3, abs=1e-4)


def test_stdin_rows_and_figure(mlcli, tmp_path):
    from mlcli.render.figures.unsupervised import score_figure

    result = mlcli("anomalies", "-", "--label", "default", "--plot", tmp_path / "figs",
                   input=DEFAULT.read_text())
    assert result.exit_code == 0, result.stderr
    rows = pd.read_csv(io.StringIO(result.stdout))
    assert list(rows.columns) == ["anomaly_score", "anomaly"] and len(rows) == 10000
    assert "PR AUC" in result.stderr and (tmp_path / "figs" / "anomaly_scores.png").is_file()
    doc = {"method": "isolation-forest", "source": "default.csv", "rows": 4, "threshold": 0.6, "contamination": 0.25,
           "label": {"positive": "Yes"}}
    ax = score_figure(doc, np.array([0.4, 0.5, 0.6, 0.7]), np.array([0.0, 0.0, 1.0, 1.0])).axes[0]
    assert ax.get_xlabel() == "anomaly score (higher is more unusual)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["not 'Yes'", "'Yes' (known)", "flag: top 25%"]


@pytest.mark.parametrize("args, fragments", [
    (["--contamination", "0"], ["--contamination is the share of rows to flag, in (0, 0.5]"]),
    (["--contamination", "0.7"], ["--contamination is the share of rows to flag"]),
    (["--positive", "Yes"], ["--positive names the --label value", "give --label COL too"]),
    (["--label", "default", "--positive", "Maybe"], ["--positive 'Maybe' is not a value of 'default'"]),
    (["--method", "iforrest"], ["unknown anomalies method 'iforrest'"]),
    (["--param", "n_estimatorz=5"], ["has no parameter n_estimatorz"]),
])
def test_bad_input_exit_2(mlcli, args, fragments):
    assert_error(mlcli("anomalies", DEFAULT, *args), *fragments)
