"""Inputs that must be refused before they are parsed, and loading that stays linear in the columns: endless or
binary streams, a first row with more fields than the header, duplicate names, wide files, infinite values."""

from __future__ import annotations

import io
import os
import threading
import time

import numpy as np
import pandas as pd
import pytest

from mlcli.data import read as R
from mlcli.data import source as S
from mlcli.data.chunks import read_chunks
from mlcli.data.dataset import DataOptions, load_dataset
from mlcli.data.read import read_table
from mlcli.data.schema import check_finite
from mlcli.errors import DataError

GOOD = "name,x,y\nab,1.5,1\ncd,2.5,0\nef,3.5,1\n"
EXTRA = "name,x,y\nab,1.5,1,oops\ncd,2.5,0\n"


class Endless(io.RawIOBase):
    """A stream that never ends: ``line`` over and over (b"" as line: NUL bytes)."""

    def __init__(self, line: bytes = b""):
        self.line = line or b"\x00"
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = len(buffer)
        chunk = (self.line * (n // len(self.line) + 1))[:n]
        buffer[:n] = chunk
        self.served += n
        return n


def _stdin(data) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedReader(data if isinstance(data, io.RawIOBase) else io.BytesIO(data)))


# --------------------------------------------------------------------------------------------- streams

def test_dev_zero_is_refused_at_once():
    t = time.perf_counter()
    with pytest.raises(DataError, match="/dev/zero is not a regular file with a table in it"):
        read_table("/dev/zero")
    with pytest.raises(DataError, match="/dev/zero is not a regular file with a table in it"):
        read_chunks("/dev/zero")
    assert time.perf_counter() - t < 5


def test_endless_binary_stdin_is_refused_after_its_head():
    stream = Endless()
    with pytest.raises(DataError, match="<stdin> does not hold a table .*NUL"):
        read_table("-", stdin=_stdin(stream))
    assert stream.served <= 2 * S.HEAD_BYTES + 8192


def test_endless_text_stdin_stops_at_the_bound(monkeypatch):
    monkeypatch.setattr(S, "MAX_STREAM_BYTES", 3 * 2**20)
    stream = Endless(b"y,1\n")  # `yes y,1 | mlcli train -`
    with pytest.raises(DataError, match="<stdin> goes on past .* GiB: .* save the data to a file"):
        read_table("-", stdin=_stdin(stream))
    assert stream.served < 16 * 2**20


def test_a_stream_without_line_breaks_is_refused(monkeypatch):
    stream = Endless(b"abc,")
    with pytest.raises(DataError, match="no line break in its first 1 MiB"):
        read_table("-", stdin=_stdin(stream))
    assert stream.served < 2 * S.MAX_FIRST_LINE + S.HEAD_BYTES


def test_a_wide_header_on_stdin_is_read_past_the_first_64_kib():
    header = ",".join(f"column_{i}" for i in range(8000))  # ~ 95 KB
    text = header + "\n" + ",".join(str(i % 7) for i in range(8000)) + "\n" + ",".join("1" * 8000) + "\n"
    df = read_table("-", stdin=_stdin(text.encode()))
    assert df.shape == (2, 8000)


def test_parquet_and_utf16_on_stdin_still_work():
    frame = pd.DataFrame({"name": ["a", "b"], "x": [0.0, 0.0], "y": [1, 0]})  # zeros: NUL bytes in the Parquet
    buf = io.BytesIO()
    frame.to_parquet(buf)
    assert read_table("-", stdin=_stdin(buf.getvalue()))["x"].tolist() == [0.0, 0.0]
    assert read_table("-", stdin=_stdin(GOOD.encode("utf-16")))["name"].tolist() == ["ab", "cd", "ef"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_fifo_holding_a_csv_is_read_whole(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    rows = "".join(f"r{i},{i / 3:.3f},{i % 2}\n" for i in range(30000))  # more than the 64 KiB head

    def writer():
        with open(fifo, "w") as fh:
            fh.write("name,x,y\n" + rows)

    thread = threading.Thread(target=writer)
    thread.start()
    df = read_table(str(fifo))
    thread.join()
    assert len(df) == 30000 and df["name"].iloc[0] == "r0" and df["name"].iloc[-1] == "r29999"


def test_a_fifo_through_the_cli(tmp_path, mlcli, small_binary):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    thread = threading.Thread(target=lambda: fifo.write_bytes(small_binary.read_bytes()))
    thread.start()
    r = mlcli("train", fifo, "--model", "logreg", "--format", "json", "-q")
    thread.join()
    assert r.exit_code == 0, r.stderr


# --------------------------------------------------------------------------------------------- header faults

MESSAGE = "line 2 has 4 fields but the header has 3"


@pytest.mark.parametrize("route", ["fast", "stream", "cp1252", "stdin", "chunks"])
def test_first_row_with_an_extra_field_is_refused_on_every_route(tmp_path, monkeypatch, route):
    path = tmp_path / "d.csv"
    if route == "cp1252":
        path.write_bytes(EXTRA.replace("oops", "caf\xe9").encode("cp1252"))
    else:
        path.write_text(EXTRA)
    if route == "stream":
        monkeypatch.setattr(R, "STREAM_BYTES", 0)  # the block-by-block pyarrow reader
    with pytest.raises(DataError, match=MESSAGE):
        if route == "stdin":
            read_table("-", stdin=_stdin(EXTRA.encode()))
        elif route == "chunks":
            chunks, _ = read_chunks(str(path))
            next(chunks)
        else:
            read_table(str(path))


def test_the_line_number_counts_leading_blank_lines_and_a_forced_separator(tmp_path):
    (tmp_path / "d.txt").write_text("\n\nname;x;y\nab;1;2;3\n")
    with pytest.raises(DataError, match="line 4 has 4 fields but the header has 3.*a ';'"):
        read_table(str(tmp_path / "d.txt"), sep=";")


def test_a_later_ragged_row_still_gets_the_parsers_own_message(tmp_path):
    (tmp_path / "d.csv").write_text(GOOD + "gh,4.5,0,extra\n")
    with pytest.raises(DataError, match="Expected 3 fields in line 5, saw 4"):
        read_table(str(tmp_path / "d.csv"))


def test_quoted_separators_and_short_rows_are_fine(tmp_path):
    (tmp_path / "d.csv").write_text('name,x,y\n"a, b",1.5,1\ncd,2.5\n')
    df = read_table(str(tmp_path / "d.csv"))
    assert df["name"].tolist() == ["a, b", "cd"] and np.isnan(df["y"].iloc[1])


def test_the_index_backstop():
    frame = pd.DataFrame({"x": [1, 2]}, index=pd.Index(["a", "b"]))
    with pytest.raises(DataError, match="the first data row has 2 fields but the header has 1"):
        R._check_index(frame, "d.csv")
    R._check_index(pd.DataFrame({"x": [1, 2]}), "d.csv")


@pytest.mark.parametrize("header", ["name,x,name,y", "name, x ,x,y", "\ufeffname,x,name,y"])
def test_duplicate_names_are_refused_before_pandas_renames_them(tmp_path, header):
    path = tmp_path / "d.csv"
    path.write_text(header + "\na,1,b,1\nc,2,d,0\n")
    with pytest.raises(DataError, match="has duplicate column names: (name|x); give every column its own name"):
        read_table(str(path))
    with pytest.raises(DataError, match="duplicate column names"):
        read_table("-", stdin=_stdin(path.read_bytes()))


def test_unnamed_columns_are_not_duplicates(tmp_path):
    (tmp_path / "d.csv").write_text("name,x,,\nab,1,,\ncd,2,,\n")  # spreadsheet exports: trailing separators
    assert list(read_table(str(tmp_path / "d.csv")).columns)[:2] == ["name", "x"]


def test_loading_is_linear_in_the_number_of_columns(tmp_path):
    """10,000 columns x 50 rows: 1.3 s here (the duplicate check was quadratic: 76 s before)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(50, 10_000)).round(3), columns=[f"c{i}" for i in range(10_000)])
    frame.to_csv(tmp_path / "wide.csv", index=False)
    t = time.perf_counter()
    df = read_table(str(tmp_path / "wide.csv"))
    assert df.shape == (50, 10_000)
    assert time.perf_counter() - t < 20


# --------------------------------------------------------------------------------------------- infinite values

@pytest.mark.parametrize("cell, shown", [("inf", "inf"), ("-inf", "-inf"), ("1e999", "inf"), ("-Infinity", "-inf")])
def test_an_infinite_value_is_named_before_fitting(tmp_path, cell, shown):
    (tmp_path / "d.csv").write_text(f"a,b,y\n1,2,x\n2,{cell},y\n3,4,x\n4,5,y\n")
    with pytest.raises(DataError, match=rf"column 'b' holds an infinite value \(row 2: {shown}\)"):
        load_dataset(DataOptions(str(tmp_path / "d.csv"), target="y"))


def test_the_row_is_the_files_row_when_rows_without_a_target_were_dropped(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,\n2,3,\n3,inf,x\n4,5,y\n5,6,x\n")
    with pytest.raises(DataError, match=r"\(row 3: inf\)"):
        load_dataset(DataOptions(str(tmp_path / "d.csv"), target="y"))


def test_an_infinite_value_in_a_column_left_out_is_fine(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,x\n2,inf,y\n3,4,x\n4,5,y\n")
    ds = load_dataset(DataOptions(str(tmp_path / "d.csv"), target="y", drop=["b"]))
    assert list(ds.X.columns) == ["a"]


def test_check_finite_on_text_numbers_and_booleans():
    frame = pd.DataFrame({"t": ["1", "inf"], "b": [True, False], "n": [1.0, np.nan]})
    check_finite(frame, ["b", "n"])
    with pytest.raises(DataError, match=r"column 't' of new.csv holds an infinite value \(row 2: inf\)"):
        check_finite(frame, ["t"], "new.csv")
    with pytest.raises(DataError, match=r"\(row 8: inf\)"):
        check_finite(frame, ["t"], rows=np.array([3, 7]))
