"""balance --plot: class counts before and after resampling, drawn from a real run on shipped data."""

from __future__ import annotations

from PIL import Image

from mlcli.data.dataset import DataOptions
from mlcli.experiments.balance import run_balance
from mlcli.render.figures.balance import class_counts_figure

from conftest import SAMPLE, assert_error, cli


def test_counts_before_and_after_oversampling():
    doc = run_balance(DataOptions(str(SAMPLE / "default.csv")), "oversample").to_dict()
    ax = class_counts_figure(doc, "default.csv").axes[0]
    assert ax.get_xlabel() == "Class (default)" and ax.get_ylabel() == "Rows"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["No", "Yes"]
    heights = [round(p.get_height()) for p in ax.patches]
    assert heights[:2] == [9667, 333]  # before: the file's counts
    assert heights[2:] == [9667, 9667]  # after: the minority class brought up to the majority
    t = ax.get_title(loc="left")
    assert "Class counts before/after resampling" in t and "oversample · default.csv · 10,000 → 19,334 rows" in t
    assert [x.get_text() for x in ax.get_legend().get_texts()] == ["before", "after oversample"]


def test_balance_plot_without_a_method_draws_the_counts(tmp_path):
    res = cli("balance", SAMPLE / "penguins.csv", "--plot", "figs", "-f", "json")
    assert res.exit_code == 0, res.stderr
    assert "figure saved to figs/class_counts.png" in res.stderr
    with Image.open(tmp_path / "figs" / "class_counts.png") as im:
        assert im.size[0] >= 500 and im.size[1] >= 400
    assert_error(cli("balance", SAMPLE / "penguins.csv", "--plot", "figs", "--plot-format", "tiff"),
                 "--plot-format tiff")
