"""cv --plot: leaderboard chart, out-of-fold ROC/PR curves, validation and learning curves from real cv runs."""

from __future__ import annotations

import numpy as np
import pytest

from mlcli.data.dataset import DataOptions
from mlcli.experiments.cv.request import CVRequest
from mlcli.experiments.cv.run import run_cv
from mlcli.render.figures.cv import cv_figures, row_colours

from conftest import SAMPLE, assert_error, cli


def title_of(ax) -> str:
    return ax.get_title(loc="left")


@pytest.fixture(scope="module")
def grid_run():
    req = CVRequest(DataOptions(str(SAMPLE / "titanic.csv")), models=["tree,rf"], grid={"max_depth": [2, 4, 8]},
                    folds=3, oof=True, leak_check=False, learning_curve=True, jobs=1)
    result = run_cv(req)
    return result.to_dict(), result.oof


def test_leaderboard_chart_marks_the_best_and_shades_rows_within_noise(grid_run):
    doc, oof = grid_run
    ax = cv_figures(doc, oof)["cv_leaderboard"].axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names == [r["name"] for r in doc["leaderboard"]] and names[-1] == "baseline"
    assert ax.get_xlabel().startswith("roc_auc (higher is better; mean ± SD over 3 folds")
    assert ax.get_ylabel() == "Model"
    assert "Leaderboard · roc_auc" in title_of(ax) and "titanic.csv" in title_of(ax) and "3-fold CV" in title_of(ax)
    best = [ln for ln in ax.get_lines() if ln.get_label().startswith("best: ")]
    assert len(best) == 1 and best[0].get_label() == f"best: {doc['best']}"
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == [doc["best"]]
    within = sum(1 for r in doc["leaderboard"] if (r.get("vs_best") or {}).get("within_noise"))
    assert len([p for p in ax.patches if p.get_facecolor()[:3] != (1, 1, 1)]) == within


def test_out_of_fold_curves_of_every_model_on_one_figure(grid_run):
    doc, oof = grid_run
    fig = cv_figures(doc, oof)["cv_roc_pr"]
    roc, pr = fig.axes
    assert roc.get_xlabel().startswith("False positive rate") and pr.get_ylabel() == "Precision"
    models = [r["name"] for r in doc["leaderboard"] if r["model"] != "baseline"]
    labels = [t.get_text() for t in roc.get_legend().get_texts()]
    assert [lab.split(" (AUC")[0] for lab in labels[:-1]] == models and labels[-1] == "chance"
    colours = row_colours(doc)  # the same colour per model as on the leaderboard
    for line, name in zip(roc.get_lines(), models):
        assert line.get_color() == colours[name]
    assert "Out-of-fold" in fig._suptitle.get_text()


def test_validation_and_learning_curves(grid_run, tmp_path):
    doc, oof = grid_run
    figs = cv_figures(doc, oof, doc["learning_curve"])
    val = figs["cv_validation_max_depth"].axes[0]
    assert val.get_xlabel() == "max_depth (--grid)" and val.get_ylabel() == "roc_auc (higher is better)"
    solid = [ln for ln in val.get_lines() if ln.get_label().endswith("test folds")]
    assert len(solid) == 2 and list(solid[0].get_xdata()) == [2, 4, 8]
    lc = doc["learning_curve"]
    assert lc["metric"] == "roc_auc" and len(lc["models"]) == 3  # the three leading models
    for points in lc["models"].values():
        sizes = [p["train_rows"] for p in points]
        assert sizes == sorted(sizes) and sizes[-1] > 800 and sizes[0] < 120
        assert all(0.5 < p["test_mean"] < 1 and 0.5 < p["train_mean"] <= 1 for p in points)
    ax = figs["cv_learning_curve"].axes[0]
    assert ax.get_xlabel() == "Training rows per fold" and "Learning curve" in title_of(ax)
    assert len(ax.get_lines()) == 6  # test and training line per model


def test_cv_plot_writes_the_files(tmp_path):
    res = cli("cv", SAMPLE / "penguins.csv", "-m", "logreg,knn", "-k", "3", "--no-leak-check", "--plot", "figs",
              "--plot-format", "svg", "-f", "json")
    assert res.exit_code == 0, res.stderr
    written = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert written == ["cv_leaderboard.svg"]  # three classes: no ROC/PR figure, no grid
    assert "figure saved to figs/cv_leaderboard.svg" in res.stderr
    svg = (tmp_path / "figs" / "cv_leaderboard.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "f1_macro" in svg
    assert_error(cli("cv", SAMPLE / "penguins.csv", "--plot", "figs", "--plot-format", "bmp"), "--plot-format bmp")
    assert np.all([p.stat().st_size > 1000 for p in (tmp_path / "figs").iterdir()])
