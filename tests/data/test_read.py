"""Loading tables of every supported shape: separators, encodings, missing-value spellings, stdin, streaming."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from mlcli.data.read import read_table
from mlcli.errors import DataError

EXPECTED = pd.DataFrame({"name": ["a, b", "c"], "x": [1.5, np.nan], "y": [1, 0]})


def _check(df):
    assert list(df.columns) == ["name", "x", "y"]
    assert df["name"].tolist() == ["a, b", "c"]
    assert df["x"].iloc[0] == 1.5 and np.isnan(df["x"].iloc[1])


@pytest.mark.parametrize("content", [
    'name,x,y\n"a, b",1.5,1\nc,?,0\n',  # comma, quoted field with a comma, '?' missing
    'name;x;y\r\n"a, b";1.5;1\r\nc;NA;0\r\n',  # semicolon, CRLF, NA
    'name\tx\ty\n"a, b"\t1.5\t1\nc\tN/A\t0\n',  # TSV, N/A
    'name|x|y\n"a, b"|1.5|1\nc||0\n',  # pipe, empty
])
def test_csv_variants(tmp_path, content):
    p = tmp_path / "d.csv"
    p.write_bytes(content.encode())
    _check(read_table(str(p)))


def test_forced_separator(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text('name:x:y\n"a, b":1.5:1\nc::0\n')
    _check(read_table(str(p), sep=":"))


def test_parquet_and_jsonl(tmp_path):
    EXPECTED.to_parquet(tmp_path / "d.parquet")
    _check(read_table(str(tmp_path / "d.parquet")))
    EXPECTED.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    _check(read_table(str(tmp_path / "d.jsonl")))


def test_stdin():
    stream = io.TextIOWrapper(io.BytesIO(b'name,x,y\n"a, b",1.5,1\nc,,0\n'))
    _check(read_table("-", stdin=stream))


def test_latin1_is_detected_and_encoding_can_be_given(tmp_path):
    p = tmp_path / "l.csv"
    p.write_bytes("city,n,y\nZürich,1,0\nGenève,2,1\n".encode("latin-1"))
    assert read_table(str(p))["city"].tolist() == ["Zürich", "Genève"]
    assert read_table(str(p), encoding="latin-1")["city"].tolist() == ["Zürich", "Genève"]


def test_padded_missing_markers_like_adult(tmp_path):
    p = tmp_path / "adult.csv"
    p.write_text("age, workclass, class\n39, State-gov, <=50K\n50, ?, >50K\n")
    df = read_table(str(p))
    assert df["workclass"].tolist()[0] == "State-gov" and pd.isna(df["workclass"].iloc[1])


def test_ragged_rows_are_a_clear_error(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(DataError, match="is not a readable table"):
        read_table(str(p))


def test_large_files_are_streamed_with_the_same_result(tmp_path, monkeypatch):
    """Above STREAM_BYTES a CSV is read block by block; the frame is the one the whole-file reader gives,
    and a later block that breaks the first block's column types falls back to that reader (GENERATED)."""
    import numpy as np
    import pandas as pd

    from mlcli.data import read as data

    rng = np.random.default_rng(0)
    n = 3000
    df = pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(0, 9, size=n),
                       "c": rng.choice([" a", "b", "?", "NA", ""], size=n), "y": rng.integers(0, 2, size=n)})
    path = tmp_path / "big.csv"
    df.to_csv(path, index=False)
    expected = data.read_table(str(path))
    monkeypatch.setattr(data, "STREAM_BYTES", 0)
    monkeypatch.setattr(data, "STREAM_BLOCK", 4096)
    streamed = data.read_table(str(path))
    pd.testing.assert_frame_equal(streamed, expected)
    assert str(streamed["c"].dtype) == "str" and streamed["c"].isna().sum() == expected["c"].isna().sum()
    # an integer column that turns into text after the first block
    df["k"] = df["k"].astype(object)
    df.loc[n - 1, "k"] = "many"
    df.to_csv(path, index=False)
    assert data._stream_csv(path, ",") is None
    assert data.read_table(str(path))["k"].iloc[-1] == "many"
