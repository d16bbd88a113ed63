"""mlcli report: one self-contained HTML page (every image embedded, no external reference, no script)."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import pytest
from PIL import Image

from conftest import SAMPLE, assert_error, cli


class Page(HTMLParser):
    """The parts of the page a test checks: images, links/scripts, headings."""

    def __init__(self) -> None:
        super().__init__()
        self.images, self.refs, self.scripts, self.headings, self._h = [], [], 0, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a)
        if tag == "script":
            self.scripts += 1
        for key in ("href", "src", "action"):
            if key in a and not a[key].startswith("data:") and not a[key].startswith("#"):
                self.refs.append(a[key])
        if tag in ("h1", "h2"):
            self._h = tag

    def handle_data(self, data):
        if self._h:
            self.headings.append(data.strip())
            self._h = None


def parse(path) -> tuple[Page, str]:
    text = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    return page, text


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("b") / "titanic-logreg"
    res = cli("train", SAMPLE / "titanic.csv", "-m", "logreg", "--threshold", "auto", "-o", out, "-q", "-f", "json")
    assert res.exit_code == 0, res.stderr
    return out


def test_report_with_data_embeds_every_figure(bundle, tmp_path):
    res = cli("report", bundle, SAMPLE / "titanic.csv", "-o", "r.html")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "" and "report written to r.html (7 figures" in res.stderr
    page, text = parse(tmp_path / "r.html")
    assert page.refs == [] and page.scripts == 0 and "http://" not in text and "https://" not in text
    assert page.headings[1:] == ["Data", "Model", "Metrics", "Warnings", "Feature importances", "Figures"]
    assert len(page.images) == 7  # importances + ROC, PR, threshold, calibration, confusion matrix, F1
    for img in page.images:
        head, data = img["src"].split(",", 1)
        assert head == "data:image/png;base64"
        with Image.open(io.BytesIO(base64.b64decode(data))) as im:
            assert im.size[0] >= 400 and im.size[1] >= 250
    assert {img["alt"] for img in page.images} == {"feature_importances", "roc", "precision_recall", "threshold",
                                                   "calibration", "confusion_matrix", "f1_by_class"}
    assert "baseline on the same rows" in text and "Sex" in text and "identifier" in text
    assert "were used to train this model" in text  # evaluated on its own training file: said in the warnings


def test_report_without_data_says_what_data_adds(bundle, tmp_path):
    res = cli("report", bundle, "-o", "r.html", "-q")
    assert res.exit_code == 0, res.stderr
    page, text = parse(tmp_path / "r.html")
    assert [i["alt"] for i in page.images] == ["feature_importances"]
    assert "give labelled DATA" in text and page.refs == [] and page.scripts == 0


def test_bad_report_input(bundle, tmp_path):
    assert_error(cli("report", bundle, "-o", "r.pdf"), "--output r.pdf: give a file name ending in .html")
    assert_error(cli("report", bundle, "-o", "no/such/r.html"), "directory no/such does not exist")
    assert_error(cli("report", tmp_path / "nothing", "-o", "r.html"))
    assert not (tmp_path / "r.html").exists()


def test_cv_report_is_one_page_with_the_leaderboard_and_figures(tmp_path):
    res = cli("cv", SAMPLE / "titanic.csv", "-m", "logreg,tree", "-k", "3", "--no-leak-check", "--report", "cv.html",
              "-f", "json")
    assert res.exit_code == 0, res.stderr
    assert "report written to cv.html" in res.stderr
    page, text = parse(tmp_path / "cv.html")
    assert page.refs == [] and page.scripts == 0 and "https://" not in text
    assert page.headings[1:] == ["Leaderboard", "Warnings", "Figures"]
    assert [i["alt"] for i in page.images] == ["cv_leaderboard", "cv_roc_pr"]
    assert all(i["src"].startswith("data:image/png;base64,") for i in page.images)
    assert ">logreg<" in text and ">baseline<" in text and "corrected resampled t-test" in text
    assert_error(cli("cv", SAMPLE / "titanic.csv", "--report", "cv.txt"), "--report cv.txt: give a file name ending "
                 "in .html")
