"""mlcli cluster on shipped real data (iris, wine): k chosen by silhouette/BIC, agreement with the known
species, the per-cluster profile, bundles that place new rows, output rules, bad input."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE, assert_error

IRIS = SAMPLE / "iris.csv"  # Fisher's iris: 150 flowers, 3 species
WINE = SAMPLE / "wine.csv"  # UCI wine: 178 wines, 3 cultivars


def _report(mlcli, *args):
    result = mlcli("cluster", *args, "-o", "rows.csv", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout), pd.read_csv("rows.csv")


def test_kmeans_on_iris_chooses_k_by_silhouette_and_matches_the_species_at_3(mlcli):
    doc, rows = _report(mlcli, IRIS, "--label", "species")
    assert doc["k"] in (2, 3)
    assert [r["k"] for r in doc["selection"]] == list(range(2, 11))
    best = max(doc["selection"], key=lambda r: r["silhouette"])
    assert best["k"] == doc["k"] and best["chosen"]
    assert "species" not in doc["columns"]  # the label is kept out of the features
    assert len(rows) == 150 and rows["cluster"].nunique() == doc["k"]
    doc3, rows3 = _report(mlcli, IRIS, "--label", "species", "--k", "3")
    assert doc3["selection"] == [] and doc3["k_reason"] == "given"
    assert doc3["label"]["ari"] >= 0.6
    assert doc3["label"]["nmi"] >= 0.6
    assert sum(sum(r["counts"]) for r in doc3["label"]["table"]) == 150
    assert doc3["label"]["labels"] == ["setosa", "versicolor", "virginica"]
    m = doc3["metrics"]
    assert 0.4 < m["silhouette"] < 0.6 and 0.5 < m["davies_bouldin"] < 1.2 and m["calinski_harabasz"] > 100
    assert sorted(s["count"] for s in doc3["sizes"]) == sorted(rows3["cluster"].value_counts().tolist())


def test_profile_names_what_sets_a_cluster_apart(mlcli):
    doc, rows = _report(mlcli, IRIS, "--k", "3", "--drop", "species")
    profiles = {p["cluster"]: p for p in doc["profile"]}
    iris = pd.read_csv(IRIS)
    for cluster, p in profiles.items():
        top = p["numeric"][0]
        assert top["mean"] == pytest.approx(iris.loc[rows["cluster"] == cluster, top["column"]].mean(), abs=1e-3)
        assert top["overall_mean"] == pytest.approx(iris[top["column"]].mean(), abs=1e-3)
    setosa = min(profiles.values(), key=lambda p: next(n["mean"] for n in p["numeric"]
                                                       if n["column"] == "petal_length"))
    assert setosa["size"] == 50  # the small-petal cluster is the setosa flowers


def test_categories_over_represented_in_a_cluster(mlcli):
    """Wine with its cultivar as a categorical feature: each cluster is dominated by one cultivar."""
    doc, _ = _report(mlcli, WINE, "--k", "3")
    assert "cultivar" in doc["columns"]
    tops = [p["categories"][0] for p in doc["profile"] if p["categories"]]
    assert len(tops) == 3 and all(c["column"] == "cultivar" and c["lift"] > 1.5 for c in tops)


def test_gmm_chooses_k_by_bic_and_writes_membership_probabilities(mlcli):
    doc, rows = _report(mlcli, WINE, "--method", "gmm", "--k", "2..5", "--label", "cultivar",
                        "--keep", "cultivar", "--param", "covariance_type=diag")
    assert doc["k_reason"].startswith("lowest BIC")
    assert doc["k"] == min(doc["selection"], key=lambda r: r["bic"])["k"]
    proba = rows[[f"proba_{j}" for j in range(doc["k"])]]
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)
    assert (proba.to_numpy().argmax(axis=1) == rows["cluster"]).mean() > 0.99
    assert list(rows.columns[:2]) == ["cultivar", "cluster"]


def test_dbscan_suggests_eps_and_marks_noise(mlcli):
    doc, rows = _report(mlcli, IRIS, "--method", "dbscan", "--drop", "species")
    assert doc["eps_reason"].startswith("knee of the 5-distance curve") and doc["eps"] > 0
    curve = doc["k_distance"]
    assert curve == sorted(curve) and curve[0] <= doc["eps"] <= curve[-1]
    assert doc["metrics"]["clusters"] >= 2
    assert doc["metrics"]["noise_share"] == pytest.approx((rows["cluster"] == -1).mean(), abs=1e-4)
    given, _ = _report(mlcli, IRIS, "--method", "dbscan", "--drop", "species", "--eps", "0.3")
    assert given["eps"] == 0.3 and given["metrics"]["noise_share"] > doc["metrics"]["noise_share"]
    as_param, _ = _report(mlcli, IRIS, "--method", "dbscan", "--drop", "species", "--param", "eps=0.3")
    assert as_param["eps_reason"] == "given" and as_param["metrics"] == given["metrics"]


@pytest.mark.parametrize("method", ["kmeans", "gmm", "agglomerative", "dbscan"])
def test_bundle_places_new_rows(mlcli, method, tmp_path):
    k = [] if method == "dbscan" else ["--k", "3"]
    doc, rows = _report(mlcli, IRIS, "--method", method, "--label", "species", *k, "--out", tmp_path / "b")
    assert doc["bundle"]
    meta = json.loads((tmp_path / "b" / "mlcli.json").read_text())
    assert meta["task"] == "clustering" and meta["model"] == method and meta["target"] == "species"
    new = pd.read_csv(IRIS).drop(columns="species")
    result = mlcli("predict", tmp_path / "b", "-", input=new.to_csv(index=False))
    assert result.exit_code == 0, result.stderr
    placed = pd.read_csv(io.StringIO(result.stdout))
    agree = (placed["cluster"] == rows["cluster"]).mean()
    # k-means, GMM: the same rule; DBSCAN: core rows and noise keep theirs; Ward vs nearest centre: most rows
    assert agree >= (0.9 if method == "agglomerative" else 0.99)
    if method == "gmm":
        assert [c for c in placed.columns if c.startswith("proba_")] == ["proba_0", "proba_1", "proba_2"]
    result = mlcli("evaluate", tmp_path / "b", IRIS)
    assert_error(result, "is a clustering bundle", "mlcli predict")


def test_rows_to_stdout_when_piped_and_stdin(mlcli):
    result = mlcli("cluster", "-", "--k", "3", "--keep", "species", "--drop", "species", "--seed", "1",
                   input=IRIS.read_text())
    assert result.exit_code == 0, result.stderr
    rows = pd.read_csv(io.StringIO(result.stdout))
    assert list(rows.columns) == ["species", "cluster"] and len(rows) == 150
    assert "silhouette" in result.stderr  # the report's summary goes to stderr


def test_recorded_in_history_and_recipe(mlcli, tmp_path):
    recipe = tmp_path / "c.yaml"
    recipe.write_text(f"command: cluster\ndata: {IRIS}\nk: '3'\nlabel: species\n")
    result = mlcli("cluster", "--recipe", recipe, "-o", "rows.csv", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["k"] == 3
    runs = json.loads(mlcli("runs", "list", "--format", "json").stdout)
    run = runs[0] if isinstance(runs, list) else runs["runs"][0]
    assert run["command"] == "cluster" and run["model"] == "kmeans"
    assert run["metrics"]["ari"] >= 0.6


@pytest.mark.parametrize("args, fragments", [
    (["--k", "3..3"], ["--k range '3..3' holds one value"]),
    (["--k", "1"], ["--k must be at least 2"]),
    (["--k", "two"], ["--k expects a number of clusters"]),
    (["--method", "dbscan", "--k", "3"], ["DBSCAN finds the number of clusters itself"]),
    (["--method", "kmeanz"], ["unknown cluster method 'kmeanz'", "did you mean 'kmeans'"]),
    (["--label", "specis"], ["--label column 'specis' not found", "did you mean 'species'"]),
    (["--param", "n_clusterz=3"], ["method 'kmeans' has no parameter n_clusterz"]),
    (["--method", "tsne"], ["unknown cluster method 'tsne'"]),
    (["--param", "n_init=-1"], ["The 'n_init' parameter of KMeans must be a str among {'auto'} or an int in the "
                                "range [1, inf). Got -1 instead."]),  # checked before the data is read
])
def test_bad_options_exit_2_before_work(mlcli, args, fragments):
    assert_error(mlcli("cluster", IRIS, *args), *fragments)


def test_bad_data_exit_2(mlcli, tmp_path):
    few = tmp_path / "few.csv"
    pd.read_csv(IRIS).head(6).to_csv(few, index=False)
    assert_error(mlcli("cluster", few), "cluster needs at least 10 rows, got 6")
    text_only = tmp_path / "text.csv"
    pd.DataFrame({"id": range(30), "note": [f"free text number {i} with words" for i in range(30)]}).to_csv(
        text_only, index=False)
    assert_error(mlcli("cluster", text_only), "needs at least one numeric or categorical column")
    assert_error(mlcli("cluster", IRIS, "--k", "2..200"), "--k up to 200 needs more rows than clusters")
    empty = tmp_path / "empty_label.csv"
    pd.read_csv(IRIS).assign(species=None).to_csv(empty, index=False)
    assert_error(mlcli("cluster", empty, "--label", "species"), "--label column 'species' is empty")
    ten = tmp_path / "ten.csv"
    pd.read_csv(IRIS).head(10).to_csv(ten, index=False)
    result = mlcli("cluster", ten, "--drop", "species", "--format", "json", "-o", tmp_path / "rows.csv")
    assert [r["k"] for r in json.loads(result.stdout)["selection"]] == list(range(2, 10))  # the default range stops


def test_figures_choosing_k_and_scatter(mlcli, tmp_path):
    from mlcli.render.figures.unsupervised import k_distance_figure, selection_figure

    doc, _ = _report(mlcli, IRIS, "--label", "species", "--k", "2..5", "--plot", tmp_path / "figs")
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["cluster_k.png", "cluster_scatter.png"]
    fig = selection_figure(doc)
    ax, ax2 = fig.axes
    assert ax.get_xlabel() == "number of clusters k" and ax2.get_ylabel() == "inertia (elbow)"
    assert list(ax.get_xticks()) == [2, 3, 4, 5]
    db, _ = _report(mlcli, IRIS, "--method", "dbscan", "--drop", "species")
    assert k_distance_figure(db).axes[0].get_ylabel() == "distance to the 5th neighbour"
