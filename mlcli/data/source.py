"""The bytes of a data file: a path, stdin, a FIFO or a device (read with bounds, refused when they cannot hold a
table), and their text (UTF-8, UTF-16 with a byte-order mark, else cp1252 or --encoding)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mlcli.errors import DataError

HEAD_BYTES = 65536  # what is sniffed (separator, format, binary) before a table is parsed
MAX_FIRST_LINE = 2**20  # a stream whose first line break is further in than this holds no table
MAX_STREAM_BYTES = 2 * 2**30  # stdin, a FIFO or a device is held in memory whole: at most this much of it


def data_path(path: str) -> Path:
    """The path of a data file that exists and is not a directory (one-line errors otherwise)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"file not found: {path}")
    if p.is_dir():
        raise DataError(f"{path} is a directory, not a data file")
    return p


def read_source(path: str, stdin: Any = None) -> tuple[bytes, str]:
    """The bytes of a data file; stdin, FIFOs and devices (which may never end) are read with a bound."""
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        return read_stream(stream.buffer if hasattr(stream, "buffer") else stream, "<stdin>"), "<stdin>"
    p = data_path(path)
    try:
        if p.is_file():
            return p.read_bytes(), path
        with open(p, "rb") as fh:
            return read_stream(fh, path), path
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _read_some(stream: Any, n: int) -> bytes:
    """Up to ``n`` bytes (fewer only at the end of the stream); a text stream's str is encoded as UTF-8."""
    parts, got = [], 0
    while got < n:
        block = stream.read(n - got)
        if not block:
            break
        if isinstance(block, str):
            block = block.encode("utf-8")
        parts.append(block)
        got += len(block)
    return b"".join(parts)


def read_head(stream: Any, label: str) -> bytes:
    """The first bytes of a stream that is not a regular file (stdin, a FIFO, a device): 64 KiB, or up to the
    first line break when it is further in (a wide header); refused when they cannot start a table."""
    head = _read_some(stream, HEAD_BYTES)
    while (len(head) < MAX_FIRST_LINE and not _is_binary_table(head) and b"\x00" not in head
           and b"\n" not in head and b"\r" not in head):
        more = _read_some(stream, HEAD_BYTES)
        if not more:
            break
        head += more
    check_head(head, label, regular=False)
    return head


def _is_binary_table(head: bytes) -> bool:
    return head[:4] == b"PAR1"  # Parquet: binary, lines mean nothing


def check_head(head: bytes, label: str, regular: bool = True) -> None:
    """Refuse the first bytes of an input that cannot be a table: binary (NUL bytes that are not UTF-16 text)
    or, for a stream, no line break in the first MiB. /dev/zero, /dev/urandom and `yes | tr -d '\\n'` stop here
    instead of being read into memory without end."""
    if _is_binary_table(head) or not head:
        return
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if regular:
        where = f"{label} is not a text table"
    else:
        where = "<stdin> does not hold a table" if label == "<stdin>" else \
            f"{label} is not a regular file with a table in it"
    if b"\x00" in head[:HEAD_BYTES] and not utf16:
        raise DataError(f"{where} (it looks binary: NUL bytes); give a CSV, TSV, Parquet or JSON Lines file")
    if not regular and len(head) >= MAX_FIRST_LINE and b"\n" not in head and b"\r" not in head:
        raise DataError(f"{where} (no line break in its first {MAX_FIRST_LINE // 2**20} MiB); give a CSV, TSV, "
                        "Parquet or JSON Lines file")


def read_stream(stream: Any, label: str) -> bytes:
    """A whole stream that may never end (stdin, a FIFO, a device), read with a bound: its head is checked
    first (:func:`read_head`) and more than ``MAX_STREAM_BYTES`` is refused."""
    parts = [read_head(stream, label)]
    total = len(parts[0])
    while block := _read_some(stream, 4 * 2**20):
        parts.append(block)
        total += len(block)
        if total > MAX_STREAM_BYTES:
            raise DataError(f"{label} goes on past {MAX_STREAM_BYTES / 2**30:g} GiB: a stream is held in memory "
                            "whole to be read, so save the data to a file and give its path")
    return b"".join(parts)


def decode(raw: bytes, encoding: str | None, label: str) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot decode {label} as {encoding}: {exc}") from exc
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"{label} is not a text table (it looks binary); give a CSV, TSV, Parquet or JSON Lines file")
    for enc in ("utf-8-sig", "utf-16") if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            pass
    return raw.decode("cp1252", errors="replace")  # the usual non-UTF-8 spreadsheet export
