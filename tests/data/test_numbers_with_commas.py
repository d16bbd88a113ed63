"""Numbers written with commas (GENERATED files shaped like the gauntlet's: a website's daily page loads
quoted with thousands separators, `"2,146"`; a European spreadsheet export with semicolons and decimal
commas, `261,96`): read as numbers with a warning, so the target is a regression target, not 2,000 classes.
Text that holds commas, and files without such numbers, are read as before and quietly."""

from __future__ import annotations

import json

import numpy as np

from mlcli.data.read import read_table


def _visits(path, n=120):
    rng = np.random.default_rng(0)
    lines = ["Day,Page.Loads,Unique.Visits"]
    for i in range(n):
        visits = int(rng.integers(500, 4000))
        loads = int(visits * 1.4 + rng.normal(0, 50))
        lines.append(f'd{i % 7},"{loads:,}","{visits:,}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def test_thousands_separators_are_read_as_numbers_and_said(tmp_path, mlcli):
    path = _visits(tmp_path / "visits.csv")
    df = read_table(str(path))
    assert df["Page.Loads"].dtype == "float64" and df["Page.Loads"].min() > 500
    r = mlcli("train", path, "--target", "Page.Loads", "--model", "linear", "--no-leak-check", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["task"] == "regression" and doc["metrics"]["r2"] > 0.9
    assert any("column 'Page.Loads': numbers written with a thousands separator (like '" in w
               for w in doc["warnings"])
    assert "mlcli: warning: " in r.stderr and "thousands separator" in r.stderr


def test_decimal_commas_in_a_semicolon_file(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("Region;Sales;Qty\nA;261,96;2\nB;731,94;3\nC;14,62;2\nD;1,500;1\nE;22;4\n")
    df = read_table(str(path))
    assert df["Sales"].tolist() == [261.96, 731.94, 14.62, 1.5, 22.0]
    assert df.attrs["mlcli_read_warnings"] == [
        "column 'Sales': numbers written with a decimal comma (like '261,96') read as numbers"]


def test_text_with_commas_and_plain_numbers_stay_as_they_are(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text('name,code,size\na,"1,2,3",10\nb,"4,5",20\nc,7,30\n')
    df = read_table(str(path))
    assert df["code"].tolist() == ["1,2,3", "4,5", "7"] and df["size"].tolist() == [10, 20, 30]
    assert df.attrs["mlcli_read_warnings"] == []


def test_many_one_row_classes_are_listed_briefly(tmp_path, mlcli):
    path = tmp_path / "ids.csv"
    lines = ["x,label"] + [f"{i},code-{i}" for i in range(40)] + [f"{i},common" for i in range(40)]
    path.write_text("\n".join(lines) + "\n")
    r = mlcli("train", path, "--target", "label", "--task", "multiclass", "--model", "logreg")
    assert r.exit_code == 2
    line = r.stderr.strip().splitlines()[-1]
    assert "has 1 row(s) and 30 more classes, at least 2 needed" in line and "--task regression" in line
    assert len(line) < 400
