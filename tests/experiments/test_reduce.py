"""mlcli reduce on shipped real data: PCA's explained variance equals scikit-learn's on the same scaled data,
a PCA bundle transforms new rows, t-SNE keeps scikit-learn's bundled digits apart; figures; bad input."""

from __future__ import annotations

import importlib.util
import io
import json

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE, assert_error

IRIS = SAMPLE / "iris.csv"
WINE = SAMPLE / "wine.csv"  # UCI wine: 178 wines, 13 measurements, 3 cultivars


def _run(mlcli, *args):
    result = mlcli("reduce", *args, "-o", "rows.csv", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), pd.read_csv("rows.csv")


def test_pca_explained_variance_equals_scikit_learns(mlcli):
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    doc, rows = _run(mlcli, WINE, "--label", "cultivar", "--dims", "5", "--keep", "cultivar")
    wine = pd.read_csv(WINE)
    X = StandardScaler().fit_transform(wine.drop(columns="cultivar"))
    ref = PCA(n_components=5).fit(X)
    ratios = [e["variance_ratio"] for e in doc["explained"]]
    assert ratios == pytest.approx(ref.explained_variance_ratio_, abs=1e-6)
    assert [e["cumulative"] for e in doc["explained"]] == pytest.approx(np.cumsum(ref.explained_variance_ratio_),
                                                                         abs=1e-6)
    assert doc["scree"][:5] == pytest.approx(ratios, abs=1e-6) and sum(doc["scree"]) == pytest.approx(1, abs=1e-5)
    coords = ref.transform(X)
    for i in range(5):  # the same coordinates, up to each component's sign
        assert np.abs(np.abs(rows[f"pc{i + 1}"]) - np.abs(coords[:, i])).max() < 1e-4
    assert list(rows.columns) == ["cultivar", "pc1", "pc2", "pc3", "pc4", "pc5"]
    assert doc["explained"][0]["loadings"][0]["feature"] == "flavanoids"  # the known first axis of wine
    assert doc["label"]["groups"] == 3 and doc["label"]["silhouette"] > 0.2


def test_pca_bundle_transforms_new_rows(mlcli, tmp_path):
    doc, rows = _run(mlcli, IRIS, "--label", "species", "--out", tmp_path / "pca")
    meta = json.loads((tmp_path / "pca" / "mlcli.json").read_text())
    assert meta["task"] == "reduction" and meta["components"] == ["pc1", "pc2"]
    new = pd.read_csv(IRIS).drop(columns="species").head(20)
    result = mlcli("predict", tmp_path / "pca", "-", input=new.to_csv(index=False))
    assert result.exit_code == 0, result.stderr
    placed = pd.read_csv(io.StringIO(result.stdout))
    assert np.allclose(placed[["pc1", "pc2"]], rows[["pc1", "pc2"]].head(20), atol=1e-5)
    assert_error(mlcli("explain", tmp_path / "pca", IRIS), "is a reduction bundle")


def test_tsne_keeps_the_digits_apart_better_than_pca(mlcli, tmp_path):
    """scikit-learn's bundled handwritten digits (no download), 600 of them: the digit groups are further apart
    in the t-SNE map than on the first two principal components."""
    from sklearn.datasets import load_digits

    digits = load_digits(as_frame=True).frame.sample(600, random_state=0)
    path = tmp_path / "digits.csv"
    digits.to_csv(path, index=False)
    pca, _ = _run(mlcli, path, "--label", "target", "--scale", "none")
    tsne, rows = _run(mlcli, path, "--label", "target", "--method", "tsne", "--scale", "none")
    assert list(rows.columns) == ["tsne1", "tsne2"] and len(rows) == 600
    assert tsne["explained"] is None and tsne["kl_divergence"] > 0
    assert tsne["label"]["silhouette"] > pca["label"]["silhouette"] + 0.2


def test_stdin_rows_and_summary(mlcli):
    result = mlcli("reduce", "-", "--drop", "species", input=IRIS.read_text())
    assert result.exit_code == 0, result.stderr
    rows = pd.read_csv(io.StringIO(result.stdout))
    assert list(rows.columns) == ["pc1", "pc2"] and len(rows) == 150
    assert "95.8% of the variance" in result.stderr


def test_figures_scree_and_scatter(mlcli, tmp_path):
    from mlcli.render.figures.unsupervised import scree_figure

    doc, _ = _run(mlcli, WINE, "--label", "cultivar", "--plot", tmp_path / "figs")
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["reduce_scatter.png", "reduce_scree.png"]
    fig = scree_figure(doc)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "principal component" and ax.get_ylabel() == "share of variance explained"
    assert len(ax.patches) == 13  # one bar per component


@pytest.mark.parametrize("args, fragments", [
    (["--method", "tsne", "--out", "b"], ["tsne cannot place new rows", "--method pca"]),
    (["--method", "tsne", "--dims", "4"], ["t-SNE maps to 2 or 3 dimensions"]),
    (["--dims", "0"], ["--dims must be at least 1"]),
    (["--dims", "9"], ["--dims 9: PCA finds at most 4 components"]),
    (["--method", "isomap"], ["unknown reduce method 'isomap'"]),
    (["--method", "tsne", "--param", "perplexity=500"], ["method 'tsne' could not be fitted",
                                                         "perplexity (500) must be less than n_samples (150)"]),
])
def test_bad_input_exit_2(mlcli, args, fragments):
    assert_error(mlcli("reduce", IRIS, "--drop", "species", *args), *fragments)


@pytest.mark.skipif(importlib.util.find_spec("umap") is not None, reason="umap-learn is installed here")
def test_umap_without_umap_learn_says_how_to_install(mlcli):
    assert_error(mlcli("reduce", IRIS, "--method", "umap"), "needs the 'umap-learn' package", "pip install umap-learn")
