"""Word spellings of a missing value ('None', 'none', '-') are missing only where the rest of the column says so:
in a numeric column; in a text column 'none' is a value (a class of the target must never vanish) and '-' is
missing unless the column also holds '+'. The same on every reading path (GENERATED data)."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from mlcli.data import read as data
from mlcli.data.chunks import read_chunks
from mlcli.data.read import read_table


def _injury_csv(path, none_class: str = "none", rows: int = 90):
    """Generated: three classes of injury, one spelled ``none_class``; 'None' and '-' for missing numbers,
    '-' for a missing habit, a '+'/'-' sign column."""
    classes = [none_class, "mild", "severe"]
    lines = ["dose,weight,habit,sign,class"]
    for i in range(rows):
        dose = "None" if i % 11 == 3 else "-" if i % 13 == 5 else f"{(i % 3) * 2.5 + (i % 7) / 10:.2f}"
        habit = "-" if i % 17 == 2 else ("smoker" if i % 2 else "nonsmoker")
        lines.append(f"{dose},{50 + i % 9},{habit},{'+' if i % 4 else '-'},{classes[i % 3]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_class_spelled_none_is_a_class_and_none_in_numbers_is_missing(tmp_path):
    df = read_table(str(_injury_csv(tmp_path / "injury.csv")))
    assert df["class"].value_counts().to_dict() == {"none": 30, "mild": 30, "severe": 30}
    assert df["dose"].dtype == "float64" and df["dose"].isna().sum() == 9 + 7 - 1  # i=5 is both
    assert df["habit"].isna().sum() == 6 and "-" not in set(df["habit"].dropna())  # no '+': '-' is missing
    assert set(df["sign"]) == {"+", "-"}  # a sign: '-' is a value


def test_the_same_file_with_another_spelling_reads_the_same(tmp_path):
    word = read_table(str(_injury_csv(tmp_path / "a.csv")))
    other = read_table(str(_injury_csv(tmp_path / "b.csv", none_class="no injury")))
    assert other["class"].value_counts().to_dict() == {"no injury": 30, "mild": 30, "severe": 30}
    pd.testing.assert_frame_equal(word.drop(columns="class"), other.drop(columns="class"))


def test_train_keeps_the_class_none(tmp_path, mlcli):
    path = _injury_csv(tmp_path / "injury.csv")
    r = mlcli("train", path, "--target", "class", "--model", "logreg", "--no-leak-check", "-o", "b", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["task"] == "multiclass" and doc["rows"]["dropped_missing_target"] == 0
    assert "missing target" not in r.stderr
    p = mlcli("predict", "b", path, "-f", "csv")
    assert p.exit_code == 0, p.stderr
    assert {"proba_none", "proba_mild", "proba_severe"} <= set(pd.read_csv(io.StringIO(p.stdout)).columns)


@pytest.mark.parametrize("spelling", ["None", "NULL", "NA", "?", "", "N/A", "nan"])
def test_missing_spellings_in_a_number_column(tmp_path, spelling):
    path = tmp_path / "n.csv"
    path.write_text(f"x,y\n1.5,a\n{spelling},b\n2,c\n")
    df = read_table(str(path))
    assert df["x"].dtype == "float64" and np.isnan(df["x"].iloc[1]) and df["x"].iloc[2] == 2


def test_every_reading_path_applies_the_same_rule(tmp_path, monkeypatch):
    """The fast pyarrow path, the careful path (another encoding), stdin, the streamed path and the chunked
    reader of mlcli embed."""
    path = _injury_csv(tmp_path / "injury.csv")
    fast = read_table(str(path))
    careful = read_table(str(path), encoding="latin-1")
    stdin = read_table("-", stdin=io.TextIOWrapper(io.BytesIO(path.read_bytes())))
    for other in (careful, stdin):
        pd.testing.assert_frame_equal(other, fast)
    monkeypatch.setattr(data, "STREAM_BYTES", 0)
    monkeypatch.setattr(data, "STREAM_BLOCK", 1024)
    pd.testing.assert_frame_equal(read_table(str(path)), fast)
    chunks, _ = read_chunks(str(path), chunk_rows=40)
    chunked = pd.concat(list(chunks), ignore_index=True)
    assert chunked["class"].value_counts().to_dict() == {"none": 30, "mild": 30, "severe": 30}
