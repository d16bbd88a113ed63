"""Records with fewer fields than the header are never read silently: a carriage return outside quotes (which
DataFrame.to_csv leaves unquoted, and which cut trump_tweets' records in two, moving tweet texts into the
`source` column) is mended and said; other short records are counted and the cause named. The same data,
well written, reads quietly (GENERATED data)."""

from __future__ import annotations

import io

import pandas as pd

from mlcli.data.read import read_table
from mlcli.data.records import ATTR


def _tweets(rows: int = 60) -> pd.DataFrame:
    """Generated: tweets sent from three apps; every tenth text holds a bare carriage return, as long tweets
    cut by TwitLonger do ('... a… (cont) http://...')."""
    apps = ["Twitter Web Client", "Twitter for Android", "Twitter for iPhone"]
    texts = [f"tweet number {i} all good" + ("\r… (cont) http://example.org/" + str(i) if i % 10 == 3 else "")
             for i in range(rows)]
    return pd.DataFrame({"source": [apps[i % 3] for i in range(rows)], "text": texts,
                         "retweets": [i * 7 % 31 for i in range(rows)]})


def _to_csv(df: pd.DataFrame, path, quote_all: bool) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, index=False, quoting=1 if quote_all else 0)  # csv.QUOTE_ALL / csv.QUOTE_MINIMAL


def test_the_well_quoted_file_reads_quietly(tmp_path):
    df = _tweets()
    _to_csv(df, tmp_path / "good.csv", quote_all=True)
    out = read_table(str(tmp_path / "good.csv"))
    assert out.attrs[ATTR] == []
    assert out["text"].tolist() == df["text"].tolist() and set(out["source"]) == set(df["source"])


def test_carriage_returns_outside_quotes_are_mended_and_said(tmp_path, mlcli):
    df = _tweets()
    _to_csv(df, tmp_path / "bad.csv", quote_all=False)  # pandas leaves a bare \r unquoted
    assert len(pd.read_csv(tmp_path / "bad.csv")) == 66  # what pandas makes of it: 6 records cut in two
    out = read_table(str(tmp_path / "bad.csv"))
    _to_csv(df, tmp_path / "good.csv", quote_all=True)
    pd.testing.assert_frame_equal(out, read_table(str(tmp_path / "good.csv")))
    (line,) = out.attrs[ATTR]
    assert line.startswith(f"{tmp_path / 'bad.csv'}: 6 value(s) hold a carriage return (\\r) outside quotes, "
                           "which in CSV ends a record")
    assert "as then every record has the header's 3 fields" in line
    r = mlcli("train", tmp_path / "bad.csv", "--target", "source", "--model", "logreg", "--no-leak-check",
              "-o", "b")
    assert r.exit_code == 0, r.stderr
    assert "mlcli: warning: " in r.stderr and "6 value(s) hold a carriage return" in r.stderr
    p = mlcli("predict", "b", tmp_path / "bad.csv", "-f", "csv")
    assert p.exit_code == 0 and "6 value(s) hold a carriage return" in p.stderr
    assert len(pd.read_csv(io.StringIO(p.stdout))) == 60


def test_short_records_that_cannot_be_mended_are_counted(tmp_path, mlcli):
    path = tmp_path / "short.csv"
    path.write_text("x,y,label\n" + "".join(f"{i},{i % 5},{'ab'[i % 2]}\n" if i % 10 else f"{i},{i % 5}\n"
                                            for i in range(40)))
    out = read_table(str(path))
    assert len(out) == 40
    (line,) = out.attrs[ATTR]
    assert line == (f"{path}: 4 record(s) have fewer fields than the header's 3 (the first at line 2, with 2), "
                    "so the fields they lack were read as missing; quote values that hold a separator, a quote or "
                    "a line break")
    r = mlcli("train", path, "--target", "label", "--model", "logreg", "--no-leak-check", "-o", "b")
    assert r.exit_code == 0 and "4 record(s) have fewer fields" in r.stderr
    e = mlcli("evaluate", "b", path)
    assert e.exit_code == 0 and "4 record(s) have fewer fields" in e.stderr
    c = mlcli("cluster", path, "--k", "2")
    assert c.exit_code == 0 and "4 record(s) have fewer fields" in c.stderr


def test_a_cut_that_marking_cannot_explain_is_counted_with_its_cause(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_bytes(b"a,b,c\n1,2,x\r4,5\n6,7,y\n")  # the return ends a record that then has a field too many
    (line,) = read_table(str(path)).attrs[ATTR]
    assert "1 record(s) have fewer fields than the header's 3 (the first at line 3, with 2)" in line
    assert "the file has 1 carriage return(s) (\\r) that are not part of a line end" in line
