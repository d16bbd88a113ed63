"""Rows a stray quote merges into the value before them are counted and the cause named; values that run over
several lines legitimately (quoted text with line breaks) raise nothing."""

from __future__ import annotations

import json

import pandas as pd

from mlcli.data.read import read_table
from mlcli.data.records import ATTR

from conftest import SAMPLE


def _names_tsv(path, broken_row: int | None):
    """The real Titanic passenger names as messages, tab-separated like the SMS spam collection; with
    ``broken_row``, that message begins with an unescaped quote (as one SMS of that file does)."""
    df = pd.read_csv(SAMPLE / "titanic.csv").iloc[:300]
    lines = ["label\tmessage"] + [f"{'yes' if s else 'no'}\t{n}" for s, n in zip(df["Survived"], df["Name"])]
    if broken_row is not None:
        label, text = lines[broken_row + 1].split("\t")
        lines[broken_row + 1] = f'{label}\t"{text}'
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_stray_quote_that_swallows_rows_is_counted_and_named(tmp_path, mlcli):
    path = _names_tsv(tmp_path / "names.tsv", broken_row=120)
    df = read_table(str(path))
    assert len(df) < 300  # pandas merged rows: the reader must say so
    (line,) = df.attrs[ATTR]
    assert "look like rows were read as part of 1 value" in line and "data row 121" in line
    assert "'message'" in line and "double that quote" in line
    r = mlcli("train", path, "--model", "logreg", "--no-leak-check", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert "mlcli: warning: " in r.stderr and "look like rows" in r.stderr
    assert any("look like rows" in w for w in json.loads(r.stdout)["warnings"])


def test_the_same_file_without_the_quote_is_quiet(tmp_path):
    df = read_table(str(_names_tsv(tmp_path / "names.tsv", broken_row=None)))
    assert len(df) == 300 and df.attrs[ATTR] == []


def test_quoted_text_with_line_breaks_is_not_a_fault(tmp_path):
    df = pd.read_csv(SAMPLE / "titanic.csv").iloc[:200]
    df["note"] = [f"{n}\nboarded at port {i % 3}" for i, n in enumerate(df["Name"])]  # legit multi-line values
    path = tmp_path / "notes.csv"
    df.to_csv(path, index=False)
    out = read_table(str(path))
    assert len(out) == 200 and out.attrs[ATTR] == []


def test_two_column_reviews_with_commas_on_their_second_lines_are_not_a_fault(tmp_path):
    """Legitimate multi-line text in a two-column file: every continuation line holds a comma, as a row
    would, but not a label."""
    df = pd.read_csv(SAMPLE / "titanic.csv").iloc[:200]
    frame = pd.DataFrame({"review": [f"{n}\nwell, it was fine, mostly" for n in df["Name"]],
                          "label": df["Survived"].map({0: "neg", 1: "pos"})})
    path = tmp_path / "reviews.csv"
    frame.to_csv(path, index=False)
    out = read_table(str(path))
    assert len(out) == 200 and out.attrs[ATTR] == []
