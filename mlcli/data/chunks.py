"""Reading a table a chunk of rows at a time (``mlcli embed`` streams files of any size)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

import pandas as pd

from mlcli.data.missing import READ_NA
from mlcli.data.notices import Notify, quiet, warn
from mlcli.data.read import check_header, sniff_separator, text_lines
from mlcli.data.records import Merged, find_merged
from mlcli.data.source import HEAD_BYTES, check_head, data_path, read_head
from mlcli.errors import DataError, first_line

CHUNK_ROWS = 4096


class _Prefixed(io.RawIOBase):
    """A byte stream: ``head`` (already read, to sniff the format) followed by the rest of ``rest``."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _open(path: str, stdin: Any) -> tuple[BinaryIO, str, bool]:
    """(the byte stream, its label, whether it is a regular file)."""
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        return (stream.buffer if hasattr(stream, "buffer") else stream), "<stdin>", False
    p = data_path(path)
    try:
        return open(p, "rb"), path, p.is_file()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _guess_encoding(head: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            "".encode(encoding)
        except LookupError as exc:
            raise DataError(f"unknown --encoding '{encoding}'") from exc
        return encoding
    cut = head[:head.rfind(b"\n") + 1] or head
    try:
        cut.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "cp1252"


def read_chunks(path: str, *, sep: str | None = None, encoding: str | None = None, chunk_rows: int = CHUNK_ROWS,
                stdin: Any = None, notify: Notify = quiet) -> tuple[Iterator[pd.DataFrame], int | None]:
    """Chunks of rows of a CSV/TSV, JSON Lines or Parquet file (or stdin), and the row count when known. Rows
    that a stray quote merged into a value (``records.find_merged``) are counted chunk by chunk and, when the
    last chunk has been read, told to ``notify`` as one warning: a stream cannot be re-read one record a line
    as ``read_table`` does."""
    raw, label, regular = _open(path, stdin)
    if isinstance(raw, io.TextIOBase):  # a text stream (tests)
        raw = io.BytesIO(raw.read().encode("utf-8"))
    head = read_head(raw, label) if not regular else raw.read(HEAD_BYTES)
    check_head(head, label, regular)
    if not head.strip():
        raise DataError(f"{label} is empty")
    lower = label.lower()
    if lower.endswith((".parquet", ".pq")) or head[:4] == b"PAR1":
        import pyarrow.parquet as pq

        source = path if path != "-" else io.BytesIO(head + raw.read())
        try:
            pf = pq.ParquetFile(source)
        except Exception as exc:  # noqa: BLE001
            raise DataError(f"{label} is not a readable Parquet file: {exc}") from exc
        batches = (b.to_pandas() for b in pf.iter_batches(batch_size=chunk_rows))
        return batches, pf.metadata.num_rows
    stream = io.BufferedReader(_Prefixed(head, raw), buffer_size=1 << 20)
    enc = _guess_encoding(head, encoding)
    if lower.endswith((".jsonl", ".ndjson", ".json")) or head.lstrip()[:1] == b"{":
        text = io.TextIOWrapper(stream, encoding=enc)
        reader = pd.read_json(text, lines=True, chunksize=chunk_rows)
    else:
        sample = head.decode(enc, errors="replace")
        separator = sep or sniff_separator(sample)
        separator = "\t" if separator == "\\t" else separator
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        check_header(text_lines(sample[:cut + 1] if cut >= 0 else sample), separator, label)  # whole lines only
        reader = pd.read_csv(stream, sep=separator, encoding=enc, chunksize=chunk_rows, na_values=READ_NA,
                             keep_default_na=False)
        return _checked(reader, label, separator, notify), None
    return _checked(reader, label), None


def _checked(reader: Any, label: str, sep: str | None = None, notify: Notify = quiet) -> Iterator[pd.DataFrame]:
    start = 0
    merged: Merged | None = None
    try:
        for chunk in reader:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            index = chunk.index  # row numbers, unless pandas took leading fields as row labels (see check_header)
            if not (isinstance(index, pd.RangeIndex) and index.start == start and index.step == 1):
                raise DataError(f"{label}: the first data row has more fields than the header, so every column "
                                "would shift; quote the value that holds a separator, or remove the extra separator(s)")
            found = find_merged(chunk, sep) if sep else None
            if found is not None:
                merged = _add(merged, found, start)
            start = index.stop
            yield chunk
    except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
        first = first_line(exc)
        raise DataError(f"{label} is not a readable table: {first}") from exc
    if merged is not None:
        merged.records = start
        warn(notify, merged.warning(label))


def _add(total: Merged | None, found: Merged, offset: int) -> Merged:
    """``found`` (in a chunk whose first row is data row ``offset``) added to the running ``total``."""
    if total is None:
        found.row += offset
        return found
    total.swallowed += found.swallowed
    total.cells += found.cells
    return total
