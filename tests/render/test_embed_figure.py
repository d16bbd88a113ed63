"""embed --reduce pca:2 --plot: the rows on two principal components, coloured by a label column (tiny BERT)."""

from __future__ import annotations

import pandas as pd
from PIL import Image

from mlcli.experiments.embed import EmbedRequest, embed
from mlcli.render.figures.embed import projection_figure
from mlcli.render.figures.style import Context

from conftest import assert_error, cli


def test_scatter_coloured_by_the_label(reviews_csv, tiny_bert, tmp_path):
    req = EmbedRequest(str(reviews_csv), output=str(tmp_path / "e.csv"), keep=["id"], reduce="pca:2",
                       base_model=str(tiny_bert), color_by="score", keep_projection=True, progress=False)
    result = embed(req)
    assert list(pd.read_csv(tmp_path / "e.csv").columns) == ["id", "pc1", "pc2"]  # the colour column is not written
    assert list(result.projection.columns) == ["id", "score", "pc1", "pc2"] and len(result.projection) == 160
    ax = projection_figure(result.projection, Context("tiny-bert", str(reviews_csv), "160 rows"), "score").axes[0]
    assert ax.get_xlabel() == "Principal component 1 (pc1)" and ax.get_ylabel() == "Principal component 2 (pc2)"
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "score"
    assert sorted(t.get_text() for t in legend.get_texts()) == ["great (80)", "other (80)"]
    assert sum(len(c.get_offsets()) for c in ax.collections) == 160
    title = ax.get_title(loc="left")
    assert "coloured by score" in title and "reviews.csv" in title and "tiny-bert" in title


def test_embed_plot_writes_the_figure_and_checks_its_options(reviews_csv, tiny_bert, tmp_path):
    res = cli("embed", reviews_csv, "--base-model", tiny_bert, "--reduce", "pca:2", "--plot", "figs",
              "--color-by", "score", "-o", "e.parquet", "-q")
    assert res.exit_code == 0, res.stderr
    with Image.open(tmp_path / "figs" / "embedding_pca.png") as im:
        assert im.size[0] >= 600 and im.size[1] >= 450
    assert_error(cli("embed", reviews_csv, "--base-model", tiny_bert, "--plot", "figs2"),
                 "--plot draws the rows on two principal components: give --reduce pca:2 (or more)")
    assert_error(cli("embed", reviews_csv, "--base-model", tiny_bert, "--reduce", "pca:2", "--plot", "f",
                     "--color-by", "scor"), "--color-by column 'scor' not found", "did you mean 'score'")
    assert_error(cli("embed", reviews_csv, "--color-by", "score"), "--color-by colours the --plot figure")
    assert not (tmp_path / "figs2").exists()
