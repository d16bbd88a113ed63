"""render.numbers: the one place numbers and shares are formatted for tables, checked directly and through a command
(a regression leaderboard on the shipped house prices, whose RMSE is in the tens of thousands)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from mlcli.render.explain import render_row
from mlcli.render.numbers import decimals, fmt_num, fmt_share, fmt_signed, mean_std, scale_of

from conftest import SAMPLE


@pytest.mark.parametrize(("mean", "std", "shown"), [
    (4650.7142, 296.7401, "4,651 ± 297"),        # large metrics: 4 significant digits, thousands separated
    (15711.9075, 942.7071, "15,712 ± 943"),
    (0.861234, 0.021287, "0.8612 ± 0.0213"),      # AUC, accuracy, R²: 4 decimals as before
    (465.07, 30.24, "465.1 ± 30.2"),
    (12.3456, 0.5432, "12.35 ± 0.54"),
    (-0.0152, 0.0092, "-0.0152 ± 0.0092"),
    (12.0, 1500.0, "12 ± 1,500"),                 # the larger of the two decides the decimals
    (0.9, None, "0.9000"),
    (None, 0.1, "—"),
])
def test_mean_and_spread(mean, std, shown):
    assert mean_std(mean, std) == shown


def test_numbers_of_every_size():
    assert [fmt_num(v) for v in (0.8612345, 1.0, 9.87654, 12.3456, 465.07, 4650.71, 123456.7)] == [
        "0.8612", "1.0000", "9.8765", "12.35", "465.1", "4,651", "123,457"]
    assert fmt_num(None) == "—" and fmt_num(7) == "7" and fmt_num(float("nan")) == "nan"
    assert fmt_num(0.012345, 3) == "0.012" and fmt_num(12.34, 1) == "12.3"  # digits caps the decimals
    assert fmt_num(1.234e-5) == "1.2e-05"  # not 0.0000: a tiny value alone keeps two significant digits
    assert fmt_num(-0.00001, scale=3.0) == "0.0000"  # in a column of larger values it reads like them, no '-0'


def test_a_column_shares_its_decimals():
    scale = scale_of([998.7, 1012.3, None, "n/a"])
    assert scale == 1012.3
    assert [fmt_num(v, scale=scale) for v in (998.7, 1012.3)] == ["999", "1,012"]
    assert decimals(0.5) == 4 and decimals(50.0) == 2 and decimals(500.0) == 1 and decimals(5000.0) == 0
    assert scale_of([]) == 0.0


@pytest.mark.parametrize(("share", "shown"), [
    (0.0, "0%"), (0.001, "<1%"), (0.0049, "<1%"), (0.005, "<1%"), (0.0051, "1%"), (0.2, "20%"),
    (0.994, "99%"), (0.995, ">99%"), (0.9999, ">99%"), (1.0, "100%"), (-0.001, "0%"), (None, "—"),
])
def test_shares_never_round_to_none_or_all(share, shown):
    assert fmt_share(share) == shown


def test_shares_with_a_decimal():
    assert fmt_share(0.0004, 1) == "<0.1%" and fmt_share(0.9996, 1) == ">99.9%" and fmt_share(0.238, 1) == "23.8%"


def test_a_regression_leaderboard_reads_in_significant_digits(mlcli):
    r = mlcli("cv", SAMPLE / "houseprices.csv", "--models", "ridge", "--folds", "3", "--format", "table")
    assert r.exit_code == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.split()[:2] == ["1", "ridge"])
    mean, std = re.search(r"(\d{1,2},\d{3}) ± (\d{3}|\d,\d{3})\b", row).groups()  # e.g. 15,712 ± 943
    assert 10_000 < int(mean.replace(",", "")) < 25_000
    assert not re.search(r"\d{3}\.\d", row), row  # no 15711.9075 ± 942.7071 (RMSE, MAE)
    assert re.search(r" 0\.\d{4} ± 0\.\d{4} ", row), row  # R² beside them keeps 4 decimals
    auc = mlcli("cv", SAMPLE / "titanic.csv", "--models", "logreg", "--folds", "3", "--format", "table")
    assert re.search(r"logreg\s+0\.8\d{3} ± 0\.0\d{3}", auc.stdout), auc.stdout  # ROC AUC keeps 4 decimals


def test_signed_numbers():
    assert [fmt_signed(v) for v in (0.01449, -0.0021, 6891.3, -5160.6)] == ["+0.0145", "-0.0021", "+6,891", "-5,161"]
    assert fmt_signed(None) == "—" and fmt_signed(0.0) == "0.0000"
    assert fmt_signed(-0.00001, scale=2.0) == "0.0000"  # rounds to nothing: no sign


def test_one_row_of_a_regression_reads_in_whole_currency():
    doc = {"model": "ridge", "row": 3, "data": "houseprices.csv", "prediction": 64192.1838, "actual": 60500,
           "explained": "predicted price", "explainer": "shap KernelExplainer", "base_value": 67342.2214,
           "output_value": 64192.1838, "contributions": [
               {"name": "lotsize", "value": 6650, "contribution": 6891.2871},
               {"name": "bathrooms", "value": 1, "contribution": -5160.5512},
               {"name": "bedrooms", "value": 3, "contribution": -98.0921}]}
    buffer = io.StringIO()
    render_row(Console(file=buffer, width=100), doc)
    out = buffer.getvalue()
    assert "predicted 64,192" in out and "base value +67,342" in out and "= +64,192 for this row" in out
    assert re.search(r"lotsize\s+6650\s+\+6,891", out) and re.search(r"bedrooms\s+3\s+-98\b", out)
