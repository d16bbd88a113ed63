"""A header line repeated among the data (GENERATED, shaped like the gauntlet's `house_sales_tx`: yearly files
joined with `cat`, each with its header): those lines are left out with a warning, so the numeric columns and
a numeric target stay numbers (it was read as 781 one-row classes). A row that only partly spells the column
names is data, and a file without repeats is quiet."""

from __future__ import annotations

import json

import numpy as np

from mlcli.data.read import read_table


def _joined(path, years=(2000, 2001, 2002), rows=40, header_each=True):
    rng = np.random.default_rng(1)
    lines = []
    for i, year in enumerate(years):
        if header_each or i == 0:
            lines.append("city,year,listings,sales")
        for _ in range(rows):
            listings = int(rng.integers(50, 500))
            lines.append(f"{rng.choice(['Austin', 'Dallas', 'Waco'])},{year},{listings},"
                         f"{listings * 3 + int(rng.integers(0, 20))}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_repeated_headers_are_left_out_and_said(tmp_path, mlcli):
    path = _joined(tmp_path / "tx.csv")
    df = read_table(str(path))
    assert len(df) == 120 and df["sales"].dtype.kind in "if"
    assert df.attrs["mlcli_read_warnings"] == [
        f"{path}: the header line is repeated 2 time(s) among the data (first as data row 41; files joined with "
        "their headers?); those lines were left out"]
    r = mlcli("train", path, "--target", "sales", "--model", "linear", "--no-leak-check", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["task"] == "regression" and doc["rows"]["train"] + doc["rows"]["test"] == 120
    assert any("header line is repeated 2 time(s)" in w for w in doc["warnings"])


def test_one_header_and_partial_matches_are_data(tmp_path):
    path = _joined(tmp_path / "one.csv", header_each=False)
    with path.open("a") as fh:
        fh.write("city,2003,10,31\n")  # a city called 'city' is a value, not a header
    df = read_table(str(path))
    assert len(df) == 121 and df.attrs["mlcli_read_warnings"] == []
    assert df["year"].dtype.kind == "i"
