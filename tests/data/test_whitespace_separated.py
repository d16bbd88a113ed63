"""Tables whose fields are separated by runs of blanks (UCI's horse-colic.data and its kind) are recognised
when no comma, semicolon, tab or pipe gives a table; files that do have one of those are read as before
(GENERATED data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlcli.data.chunks import read_chunks
from mlcli.data.read import WHITESPACE, read_table, sniff_separator


def _horses(path, rows: int = 80, sep: str = " "):
    """Generated: space-separated like horse-colic.data, '?' for missing, some fields padded with extra blanks."""
    lines = [sep.join(["surgery", "age", "rectal_temperature", "pulse", "pain", "outcome"])]
    for i in range(rows):
        temp = "?" if i % 9 == 4 else f"{37.5 + (i % 7) / 5:.1f}"
        pulse = "?" if i % 11 == 6 else str(40 + (i * 7) % 60)
        pad = "  " if i % 5 == 0 else ""  # aligned columns: more than one blank
        lines.append(sep.join([str(1 + i % 2), str(1 + (i % 9 == 0) * 8), temp + pad, pulse, str(1 + i % 5),
                               str(1 + (i * 7 // 3) % 3)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_space_separated_table_is_read(tmp_path):
    df = read_table(str(_horses(tmp_path / "horse.data")))
    assert list(df.columns) == ["surgery", "age", "rectal_temperature", "pulse", "pain", "outcome"]
    assert len(df) == 80 and df["rectal_temperature"].dtype == "float64"
    assert df["rectal_temperature"].isna().sum() == 9 and df["pulse"].isna().sum() == 7
    assert df["rectal_temperature"].iloc[1] == pytest.approx(37.7)
    chunks, _ = read_chunks(str(tmp_path / "horse.data"), chunk_rows=30)
    assert sum(len(c) for c in chunks) == 80


def test_train_and_evaluate_a_space_separated_table(tmp_path, mlcli):
    path = _horses(tmp_path / "horse.data")
    r = mlcli("train", path, "--target", "outcome", "--model", "logreg", "--no-leak-check", "-o", "b", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["task"] == "multiclass"
    e = mlcli("evaluate", "b", path, "-f", "json")
    assert e.exit_code == 0, e.stderr
    assert json.loads(e.stdout)["rows"] == 80


def test_leading_blanks_and_a_header_padded_like_the_rows(tmp_path):
    path = tmp_path / "aligned.txt"
    path.write_text("   x     y  label\n 1.5   2.0  a\n 3.0  -1.0  b\n 4.5   0.5  a\n")
    df = read_table(str(path))
    assert list(df.columns) == ["x", "y", "label"] and df["y"].tolist() == [2.0, -1.0, 0.5]


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_a_real_separator_wins_over_blanks(tmp_path, sep):
    """Values with one blank each split on blanks as consistently as on the separator: the separator is kept."""
    path = tmp_path / "names.txt"
    path.write_text(f"first name{sep}city name{sep}y\n" + "".join(
        f"Ann {i}{sep}New York{sep}{i % 2}\n" for i in range(20)))
    assert sniff_separator(path.read_text()) == sep
    df = read_table(str(path))
    assert list(df.columns) == ["first name", "city name", "y"] and df["city name"].iloc[0] == "New York"


def test_one_column_of_text_is_not_split_on_blanks(tmp_path, mlcli):
    path = tmp_path / "notes.txt"
    path.write_text("note\nbring the red one\ncall me later\n")
    assert sniff_separator(path.read_text()) != WHITESPACE
    r = mlcli("train", path)
    assert r.exit_code == 2 and "is not a table: found 1 column" in r.stderr


def test_the_sniffer_on_samples():
    assert sniff_separator("a b c\n1 2 3\n4 5 6\n") == WHITESPACE
    assert sniff_separator("a  b\n1  2\n3 4\n") == WHITESPACE
    assert sniff_separator("a b c\n1 2\n4 5 6\n") == ","  # ragged on blanks: not a table of blanks
    assert sniff_separator("a,b\n1,2\n") == ","
    assert np.isnan(read_table_frame("a b\n1 ?\n2 3\n")["b"].iloc[0])


def read_table_frame(text: str):
    import io

    return read_table("-", stdin=io.TextIOWrapper(io.BytesIO(text.encode())))
