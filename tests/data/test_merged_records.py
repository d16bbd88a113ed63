"""Rows a stray quote merges into the value before them are counted and the cause named; values that run over
several lines legitimately (quoted text with line breaks) raise nothing."""

from __future__ import annotations

import io
import json

import pandas as pd

from mlcli.data.read import read_table
from mlcli.data.records import ATTR

from conftest import SAMPLE, cli


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


def test_a_stray_quote_in_a_tsv_is_read_one_record_per_line_and_said(tmp_path, mlcli):
    """Every line of the file has the header's fields once the stray quote is an ordinary character: the file
    is read so, one record per line (the SMS spam collection's held-out part), and each command says so."""
    path = _names_tsv(tmp_path / "names.tsv", broken_row=120)
    df = read_table(str(path))
    expected = pd.read_csv(SAMPLE / "titanic.csv").iloc[:300]
    assert len(df) == 300 and df["label"].tolist() == ["yes" if s else "no" for s in expected["Survived"]]
    assert df["message"].iloc[120] == '"' + expected["Name"].iloc[120]
    (line,) = df.attrs[ATTR]
    assert line.startswith(f"{path}: 1 line(s) have a value that opens with a quote and does not close it on that "
                           "line (the first: the value of 'message' in data row 121 (starting ")
    assert "read instead with that quote as an ordinary character, as every line then has the header's 2 " \
           "fields: 300 records, one per line; double that quote" in line
    r = mlcli("train", path, "--model", "logreg", "--no-leak-check", "-o", "b", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert "mlcli: warning: " in r.stderr and "does not close it on that line" in r.stderr
    assert any("does not close it on that line" in w for w in json.loads(r.stdout)["warnings"])
    p = mlcli("predict", "b", path, "-f", "csv")
    assert p.exit_code == 0 and "mlcli: warning: " in p.stderr and "300 records, one per line" in p.stderr
    assert len(pd.read_csv(io.StringIO(p.stdout))) == 300
    e = mlcli("evaluate", "b", path, "-f", "json")
    assert e.exit_code == 0 and "300 records, one per line" in e.stderr
    assert json.loads(e.stdout)["rows"] == 300
    x = mlcli("explain", "b", path)
    assert x.exit_code == 0 and "300 records, one per line" in x.stderr


def test_a_stray_quote_that_cannot_be_read_around_is_counted_and_named(tmp_path, mlcli):
    """The same file with a legitimate quoted message over two lines further up: its second line has one field,
    so no reading gives one record per line; the file is read as CSV reads it and the swallowed rows are
    counted, by train, predict and evaluate."""
    path = _names_tsv(tmp_path / "names.tsv", broken_row=120)
    lines = path.read_text().split("\n")
    label, text = lines[11].split("\t")
    lines[11] = f'{label}\t"{text}\nwho boarded at Southampton"'
    path.write_text("\n".join(lines))
    out = read_table(str(path))
    assert len(out) < 300 and out["message"].iloc[10].endswith("\nwho boarded at Southampton")
    (line,) = out.attrs[ATTR]
    assert "look like rows were read as part of 1 value" in line and "data row 121" in line
    assert "'message'" in line and "double that quote" in line
    r = mlcli("train", path, "--model", "logreg", "--no-leak-check", "-o", "b")
    assert r.exit_code == 0 and "look like rows were read as part of 1 value" in r.stderr
    for command in (["predict", "b", path], ["evaluate", "b", path]):
        done = mlcli(*command)
        assert done.exit_code == 0 and "look like rows were read as part of 1 value" in done.stderr


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


def test_embed_streams_chunk_by_chunk_and_still_counts_the_merged_rows(tmp_path):
    """`embed` reads a file a chunk at a time (it cannot re-read it one record a line): rows a stray quote
    merged are counted over every chunk and named in one warning once the file has been read."""
    from mlcli.data.chunks import read_chunks

    path = _closed_later(_names_tsv(tmp_path / "names.tsv", broken_row=130), 133)  # the third chunk of 50 rows
    told: list[str] = []
    chunks, _ = read_chunks(str(path), chunk_rows=50, notify=told.append)
    assert sum(len(c) for c in chunks) == 297
    assert told == [
        f"warning: {path}: 3 line(s) that look like rows were read as part of 1 value(s), so 297 records were read "
        "where the file has about 300: the value of 'message' in data row 131 (starting 'Gibson, Miss. "
        "Dorothy Winifred') opens with a quote that is not closed where its row ends, and runs on to the next "
        "quote; double that quote (\"\") or remove it"]
    told.clear()
    chunks, _ = read_chunks(str(_names_tsv(tmp_path / "clean.tsv", broken_row=None)), chunk_rows=50,
                            notify=told.append)
    assert sum(len(c) for c in chunks) == 300 and told == []


def _closed_later(path, row: int):
    """The message of data row ``row`` (0-based) ends with a quote: the stray quote's value runs on to it."""
    lines = path.read_text().split("\n")
    lines[row + 1] += '"'
    path.write_text("\n".join(lines))
    return path


def test_embed_says_how_many_rows_the_quote_merged(tmp_path, tiny_bert):
    path = _closed_later(_names_tsv(tmp_path / "names.tsv", broken_row=20), 22)
    r = cli("embed", path, "--text", "message", "--base-model", tiny_bert, "-o", tmp_path / "e.csv")
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "e.csv")) == 298
    assert "2 line(s) that look like rows were read as part of 1 value(s), so 298 records" in r.stderr
    r = cli("embed", _names_tsv(tmp_path / "clean.tsv", broken_row=None), "--text", "message", "--base-model",
            tiny_bert, "-o", tmp_path / "c.csv")
    assert r.exit_code == 0 and "look like rows" not in r.stderr and len(pd.read_csv(tmp_path / "c.csv")) == 300
