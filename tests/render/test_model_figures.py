"""train/evaluate --plot: every figure drawn from a real model on shipped sample data, read back from matplotlib."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlcli.data.dataset import DataOptions
from mlcli.experiments.train import TrainRequest, train
from mlcli.models.build import ModelConfig
from mlcli.render.figures.commands import train_figures
from mlcli.render.figures.style import write_all

from conftest import SAMPLE, assert_error, cli

BINARY = {"roc", "precision_recall", "threshold", "calibration", "confusion_matrix", "f1_by_class"}
REGRESSION = {"predicted_vs_actual", "residuals", "residual_histogram"}


def fitted(tmp_path_factory, data: str, model: str, **kw):
    out = tmp_path_factory.mktemp("bundle") / "m"
    req = TrainRequest(DataOptions(str(SAMPLE / data)), ModelConfig(model), out=str(out), leak_check=False, **kw)
    return train(req)


@pytest.fixture(scope="module")
def titanic_auto(tmp_path_factory):
    return fitted(tmp_path_factory, "titanic.csv", "logreg", threshold="auto")


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    return fitted(tmp_path_factory, "penguins.csv", "logreg")


@pytest.fixture(scope="module")
def houses(tmp_path_factory):
    return fitted(tmp_path_factory, "houseprices.csv", "ridge")


def check_image(path, min_w: int = 400, min_h: int = 300) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        w, h = im.size
    assert min_w <= w <= 3000 and min_h <= h <= 3000, (path, w, h)
    return w, h


def title_of(ax) -> str:
    return ax.get_title(loc="left")


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def test_binary_figures_name_model_data_and_threshold(titanic_auto, tmp_path):
    figs = train_figures(titanic_auto)
    assert set(figs) == BINARY
    thr = titanic_auto.threshold_tuning["threshold"]
    n = titanic_auto.n_test
    for fig in figs.values():
        text = title_of(fig.axes[0]) + (fig._suptitle.get_text() if fig._suptitle else "")
        assert "logreg" in text and "titanic.csv" in text and f"{n} held-out rows" in text, text
    roc = figs["roc"].axes[0]
    assert roc.get_xlabel().startswith("False positive rate") and roc.get_ylabel().startswith("True positive rate")
    auc = titanic_auto.test.metrics["roc_auc"]
    assert f"ROC AUC {auc:.3f}" in title_of(roc) and 0.8 < auc < 0.95
    marked = [t for t in legend_texts(roc) if t.startswith(f"threshold {thr:.3g} (auto, max F1)")]
    assert len(marked) == 1, legend_texts(roc)
    pr = figs["precision_recall"].axes[0]
    assert pr.get_xlabel().startswith("Recall") and pr.get_ylabel().startswith("Precision")
    share = float(np.mean(titanic_auto.test.y == 1))
    assert any(t == f"no skill (positive share {share:.3f})" for t in legend_texts(pr))
    th = figs["threshold"].axes[0]
    assert th.get_xlabel() == "Decision threshold (probability of '1')" and th.get_ylabel() == "Share (0-1)"
    vertical = [ln for ln in th.get_lines() if ln.get_label().startswith("threshold")]
    assert len(vertical) == 1 and np.allclose(vertical[0].get_xdata(), thr)
    assert {"precision", "recall", "F1", "share predicted positive"} <= set(legend_texts(th))
    top, bottom = figs["calibration"].axes
    assert top.get_ylabel() == "Observed share of '1'" and bottom.get_xlabel() == "Predicted probability of '1'"
    assert bottom.get_ylabel() == "Rows" and "Brier score" in figs["calibration"]._suptitle.get_text()
    paths = write_all(figs, str(tmp_path / "plots"))
    assert sorted(p.rsplit("/", 1)[1] for p in paths) == sorted(f"{name}.png" for name in BINARY)
    for p in paths:
        check_image(p)


def test_confusion_matrix_counts_and_f1_bars_of_three_classes(penguins):
    figs = train_figures(penguins)
    assert set(figs) == {"confusion_matrix", "f1_by_class"}  # no probability curves for three classes
    counts, shares = figs["confusion_matrix"].axes[:2]  # two heatmaps (then their colour bars)
    assert counts.get_xlabel() == "Predicted class" and counts.get_ylabel() == "True class"
    assert [t.get_text() for t in counts.get_yticklabels()] == ["Adelie", "Chinstrap", "Gentoo"]
    cells = [int(t.get_text()) for t in counts.texts]
    assert sum(cells) == penguins.n_test and np.reshape(cells, (3, 3)).tolist() == penguins.test.confusion
    row_sums = np.reshape([float(t.get_text()) for t in shares.texts], (3, 3)).sum(axis=1)
    assert np.allclose(row_sums, 1.0, atol=0.02)
    f1 = figs["f1_by_class"].axes[0]
    assert f1.get_xlabel().startswith("F1") and f1.get_ylabel() == "Class" and len(f1.patches) == 3
    assert "penguins.csv" in title_of(f1) and "macro F1" in title_of(f1)
    assert [round(p.get_width(), 6) for p in f1.patches] == [round(c["f1"], 6) for c in penguins.test.per_class]


def test_regression_figures_in_the_targets_units(houses, tmp_path):
    figs = train_figures(houses)
    assert set(figs) == REGRESSION
    target = houses.schema.target
    pva = figs["predicted_vs_actual"].axes[0]
    assert (pva.get_xlabel(), pva.get_ylabel()) == (f"Actual {target}", f"Predicted {target}")
    assert f"R² {houses.test.metrics['r2']:.3f}" in title_of(pva) and "houseprices.csv" in title_of(pva)
    res = figs["residuals"].axes[0]
    assert res.get_ylabel() == f"Residual: actual − predicted {target}" and "RMSE" in title_of(res)
    hist = figs["residual_histogram"].axes[0]
    assert hist.get_ylabel() == "Rows" and sum(p.get_height() for p in hist.patches) == houses.n_test
    for fmt, magic in (("svg", b"<?xml"), ("pdf", b"%PDF")):
        paths = write_all(train_figures(houses), str(tmp_path / fmt), fmt)
        assert len(paths) == 3 and all(open(p, "rb").read(len(magic)) == magic for p in paths)


def test_train_plot_writes_the_figures_and_names_them_on_stderr(tmp_path):
    res = cli("train", SAMPLE / "titanic.csv", "-m", "logreg", "-o", "m", "--no-leak-check", "--plot", "out/figs",
              "-f", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["model"] == "logreg"  # stdout holds only the report
    for name in BINARY:
        assert f"figure saved to out/figs/{name}.png" in res.stderr
        check_image(tmp_path / "out" / "figs" / f"{name}.png")


def test_evaluate_plot_says_when_the_rows_were_training_rows(tmp_path):
    assert cli("train", SAMPLE / "penguins.csv", "-m", "logreg", "-o", "m", "--no-leak-check", "-q").exit_code == 0
    res = cli("evaluate", "m", SAMPLE / "penguins.csv", "--plot", "ev", "--plot-format", "svg", "-f", "json")
    assert res.exit_code == 0, res.stderr
    svg = (tmp_path / "ev" / "confusion_matrix.svg").read_text()
    assert "training rows" in svg and "penguins.csv" in svg and "logreg" in svg
    assert (tmp_path / "ev" / "f1_by_class.svg").exists()


def test_bad_plot_options_fail_before_fitting(tmp_path):
    msg = assert_error(cli("train", SAMPLE / "titanic.csv", "-m", "logreg", "-o", "m", "--plot", "figs",
                           "--plot-format", "jpg"))
    assert msg == "--plot-format jpg: choose one of png, svg, pdf"
    (tmp_path / "afile").write_text("x")
    assert_error(cli("train", SAMPLE / "titanic.csv", "-m", "logreg", "-o", "m", "--plot", "afile"),
                 "--plot afile: not a directory")
    assert not (tmp_path / "m").exists() and not (tmp_path / "figs").exists()  # nothing fitted or written
    assert_error(cli("evaluate", "missing-bundle", SAMPLE / "titanic.csv", "--plot", "f", "--plot-format", "gif"),
                 "--plot-format gif")


def test_missing_matplotlib_is_named_before_fitting(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    msg = assert_error(cli("train", SAMPLE / "titanic.csv", "-m", "logreg", "-o", "m", "--plot", "figs"))
    assert msg == "--plot needs the 'matplotlib' package, which is not installed: run pip install 'mlcli[plot]'"
    assert not (tmp_path / "m").exists()
