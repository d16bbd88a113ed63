"""Reading tables: CSV/TSV (separator sniffed), Parquet, JSON Lines, from a path or stdin; encodings,
missing-value spellings, streamed reading of large files, and a fingerprint of what was read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.records import (
    ATTR,
    CR_MARK,
    find_merged,
    lines_as_records,
    mend_bare_returns,
    mended_warning,
    short_records,
)
from mlcli.errors import DataError, first_line, quote_list

# Spellings of a missing value; with pandas' own defaults (READ_NA), missing in any column, except CONTEXT_NA.
NA_VALUES = ["", "?", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "-", "#N/A"]
# Spellings that are also a value in their own right (the class 'none' of an injury, 'None' for no airbags, the
# '-' of a '+'/'-' sign): read as missing only where the rest of the column says so (_context_missing). Every
# reader leaves them as text, and _clean_strings decides per column.
CONTEXT_NA = ("None", "none", "-")
try:  # pandas' own default spellings (keep_default_na), which every reader here adds; 'None' among them
    from pandas._libs.parsers import STR_NA_VALUES as _PANDAS_NA
except ImportError:  # pragma: no cover - a pandas without the private constant
    _PANDAS_NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                  "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
READ_NA = sorted((set(NA_VALUES) | set(_PANDAS_NA)) - set(CONTEXT_NA))  # what the readers take as missing
_PARQUET = (".parquet", ".pq")
_JSONL = (".jsonl", ".ndjson", ".json")


HEAD_BYTES = 65536  # what is sniffed (separator, format, binary) before a table is parsed
MAX_FIRST_LINE = 2**20  # a stream whose first line break is further in than this holds no table
MAX_STREAM_BYTES = 2 * 2**30  # stdin, a FIFO or a device is held in memory whole: at most this much of it


def _read_source(path: str, stdin: Any = None) -> tuple[bytes, str]:
    """The bytes of a data file; stdin, FIFOs and devices (which may never end) are read with a bound."""
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        return read_stream(stream.buffer if hasattr(stream, "buffer") else stream, "<stdin>"), "<stdin>"
    p = Path(path)
    if not p.exists():
        raise DataError(f"file not found: {path}")
    if p.is_dir():
        raise DataError(f"{path} is a directory, not a data file")
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


def _decode(raw: bytes, encoding: str | None, label: str) -> str:
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


WHITESPACE = r"\s+"  # the separator of a table whose fields are separated by runs of blanks (pandas' regex)


def sniff_separator(sample: str) -> str:
    """The separator of a CSV/TSV sample: comma, semicolon, tab or pipe, or runs of blanks (WHITESPACE) when
    none of those gives a table and splitting every line on blanks does (a UCI-style space-separated file)."""
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {sep: lines[0].count(sep) for sep in ",;\t|"}
        best = max(counts, key=counts.get)
        found = best if counts[best] else ","
    if _blank_separated(lines) and not any(_consistent(lines, sep) for sep in ",;\t|"):
        return WHITESPACE
    return found


def _consistent(lines: list[str], sep: str) -> bool:
    """Whether ``sep`` cuts the sample's records (quoted fields as CSV has them) into the same number of fields,
    at least two. The last line is left out: a sample may end part-way through a record."""
    try:
        counts = {len(fields) for fields in csv.reader(lines[:-1] if len(lines) > 2 else lines, delimiter=sep)}
    except csv.Error:
        return False
    return len(counts) == 1 and counts.pop() >= 2


def _blank_separated(lines: list[str]) -> bool:
    """Whether every line of the sample (the last, which may be cut, aside) splits on blanks into the same number
    of fields, at least two."""
    body = lines[:-1] if len(lines) > 2 else lines
    counts = {len(ln.split()) for ln in body}
    return len(lines) > 1 and len(counts) == 1 and counts.pop() >= 2


def text_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` with their line ends, one at a time (no copy of the whole text)."""
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start)
        end = n if end < 0 else end + 1
        yield text[start:end]
        start = end


def _records(lines: Iterable[str], sep: str) -> Iterator[tuple[int, list[str]]]:
    """(line number where it starts, fields) of each non-blank CSV record, quoted fields as pandas reads them."""
    if len(sep) == 1:
        reader = csv.reader(lines, delimiter=sep, skipinitialspace=True)
        start = 1
        for fields in reader:
            if fields and not (len(fields) == 1 and not fields[0].strip()):
                yield start, fields
            start = reader.line_num + 1
    else:  # a regular expression, as pandas takes a separator longer than one character
        pattern = re.compile(sep)
        for number, line in enumerate(lines, 1):
            if line.strip():  # runs of blanks: those at either end of a line separate nothing (as in pandas)
                yield number, line.split() if sep == WHITESPACE else pattern.split(line.rstrip("\r\n"))


def check_header(lines: Iterable[str], sep: str, label: str) -> None:
    """Refuse, before the table is parsed, the two header faults pandas would quietly "repair": the same name
    twice (pandas renames the second 'Age' to 'Age.1') and a first data row with more fields than the header
    (pandas takes the leading fields as row labels and shifts every column onto its neighbour's name)."""
    try:
        records = _records(lines, sep)
        header = next(records, None)
        first = next(records, None) if header is not None else None
    except (csv.Error, re.error, UnicodeError):
        return  # pandas' own reader says what is wrong with such a file
    if header is None:
        return
    names = [n.strip().lstrip("\ufeff") for n in header[1]]
    counts = Counter(n for n in names if n)  # blank names: pandas calls them 'Unnamed: N'
    dupes = [n for n, k in counts.items() if k > 1]
    if dupes:
        raise DataError(f"{label} has duplicate column names: {quote_list(dupes)}; give every column its own name")
    if first is not None and len(first[1]) > len(names):
        line, fields = first
        extra = len(fields) - len(names)
        leading = "field" if extra == 1 else f"{extra} fields"
        shown = "tab" if sep == "\t" else f"'{sep}'"
        raise DataError(f"{label}: line {line} has {len(fields)} fields but the header has {len(names)}, so the "
                        f"columns would be misaligned (the first {leading} would become row labels and every value "
                        f"would sit under its neighbour's name); quote the value that holds a {shown}, or remove the "
                        "extra separator(s)")


def _check_index(df: pd.DataFrame, label: str) -> None:
    """The same fault as :func:`check_header`, seen after parsing: pandas made an index of leading fields."""
    index = df.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        columns = len(df.columns)
        raise DataError(f"{label}: the first data row has {columns + index.nlevels} fields but the header has "
                        f"{columns}, so every column would shift; quote the value that holds a separator, or "
                        "remove the extra separator(s)")


def _clean_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Strip surrounding blanks from text cells and turn the missing-value spellings into NaN.

    Columns pyarrow read as strings stay Arrow-backed strings (vectorised, and a fraction of the memory of
    Python string objects); other non-numeric columns (mixed JSON values) become cleaned Python objects.
    """
    na = READ_NA
    for col in df.columns:
        s = df[col]
        if isinstance(s.dtype, pd.StringDtype):
            stripped = s.str.strip()
            stripped = stripped.mask(stripped.isin(na))
        elif s.dtype == object:
            stripped = s.where(s.isna(), s.astype(str).str.strip())
            stripped = stripped.where(~stripped.isin(na), np.nan)
        else:
            continue
        stripped = _context_missing(stripped)
        present = stripped.dropna()
        # a column that was numeric apart from blanks / '?' becomes numeric again (tried on a sample first);
        # one with nothing but missing values is what the reader makes of an empty column: float NaN
        if not len(present) or _all_numbers(present.head(200)):
            converted = pd.to_numeric(stripped, errors="coerce")
            if converted.notna().sum() == len(present):
                df[col] = converted
                continue
        df[col] = stripped
    return df


def _all_numbers(values: pd.Series) -> bool:
    return bool(pd.to_numeric(values, errors="coerce").notna().all())


def _context_missing(s: pd.Series) -> pd.Series:
    """The column with its CONTEXT_NA cells made missing where they mean a missing value: 'None', 'none' and
    '-' in a column whose other values are numbers (or that holds nothing else); '-' also in a text column,
    unless the column holds '+' as well (a sign). Elsewhere 'none' / 'None' are a value like any other: a
    class of the target, a level of a category."""
    words = s.isin(CONTEXT_NA)
    if not words.any():
        return s
    others = s[~words].dropna()
    if not len(others) or (_all_numbers(others.head(200)) and _all_numbers(others)):
        return s.mask(words)
    if (others == "+").any():
        return s
    return s.mask(s == "-")


def _read_csv_file_directly(path: str, sep: str | None, encoding: str | None) -> pd.DataFrame | None:
    """The fast path for a UTF-8 CSV/TSV file: pyarrow reads it straight from disk, with no copy of its text
    held in Python. None when the file needs the careful path (other encodings, odd shapes, errors to explain)."""
    p = Path(path)
    if path == "-" or encoding not in (None, "utf-8", "utf8") or p.suffix.lower() in (*_PARQUET, *_JSONL):
        return None
    if not p.is_file():  # a FIFO or a device: read once, with a bound (_read_source)
        return None
    try:
        with p.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return None
    if not head.strip() or b"\x00" in head or head[:4] == b"PAR1" or head.lstrip()[:1] == b"{":
        return None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return None
        text = head[:exc.start].decode("utf-8-sig")
    separator = sep or sniff_separator(text)
    separator = "\t" if separator == "\\t" else separator
    with p.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        check_header(fh, separator, path)  # reads the header and the first row only
    df = _stream_csv(p, separator) if p.stat().st_size > STREAM_BYTES else None
    if df is None:
        try:
            df = pd.read_csv(p, sep=separator, engine="pyarrow", na_values=READ_NA, keep_default_na=False)
        except Exception:
            return None
    if df.shape[1] >= 2 and len(df):
        df.attrs["mlcli_sep"] = separator
        return df
    return None


STREAM_BYTES = 64 * 2**20  # files larger than this are read block by block
STREAM_BLOCK = 4 * 2**20


def _stream_csv(path: Path, separator: str) -> pd.DataFrame | None:
    """A large CSV read one block (4 MiB) at a time: pyarrow's whole-file reader holds about three times the
    table in parse buffers at its peak, the streaming reader one block's worth. Column types come from the
    first block; a later block that does not fit them (None) sends the file to the whole-file reader."""
    import pyarrow as pa
    from pyarrow import csv as pacsv
    try:
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=STREAM_BLOCK),
                                parse_options=pacsv.ParseOptions(delimiter=separator),
                                convert_options=pacsv.ConvertOptions(null_values=READ_NA, strings_can_be_null=True))
        table = pa.Table.from_batches(list(reader), schema=reader.schema)
    except Exception:  # pyarrow.ArrowInvalid: a value later in the file that the first block's types reject
        return None
    return table.to_pandas(self_destruct=True, split_blocks=True)


def read_table(path: str, sep: str | None = None, encoding: str | None = None, stdin: Any = None) -> pd.DataFrame:
    """Read CSV/TSV (separator sniffed), Parquet or JSON Lines from a path or '-' (stdin)."""
    if path != "-" and not Path(path).exists():
        raise DataError(f"file not found: {path}")
    fast = _read_csv_file_directly(path, sep, encoding)
    if fast is not None:
        return _finish_frame(fast, path, text=lambda: _file_text(path))
    raw, label = _read_source(path, stdin)
    df_sep = None  # the separator of a CSV/TSV read here, for the check of merged rows
    notes: list[str] = []  # what reading found wrong with the records (data.records), for the caller to tell
    if not raw.strip():
        raise DataError(f"{label} is empty")
    lower = label.lower()
    try:
        if lower.endswith(_PARQUET) or raw[:4] == b"PAR1":
            df = pd.read_parquet(io.BytesIO(raw))
        elif lower.endswith(_JSONL) or raw.lstrip()[:1] == b"{":
            text = _decode(raw, encoding, label)
            df = pd.read_json(io.StringIO(text), lines=True)
        else:
            text = _decode(raw, encoding, label)
            separator = sep or sniff_separator(text[:HEAD_BYTES])
            if separator == "\\t":
                separator = "\t"
            check_header(text_lines(text), separator, label)
            df_sep = separator
            df, notes = _parse_text(text, separator, label)
    except DataError:
        raise
    except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
        first = first_line(exc)
        raise DataError(f"{label} is not a readable table: {first}") from exc
    except Exception as exc:  # pyarrow / parquet errors
        first = first_line(exc)
        raise DataError(f"{label} is not a readable table: {first}") from exc
    if df.shape[1] < 2 and not lower.endswith(_PARQUET):
        raise DataError(f"{label} is not a table: found {df.shape[1]} column; give a CSV/TSV with a header row "
                        "(use --sep if the separator is unusual)")
    if len(df) == 0:
        raise DataError(f"{label} has a header but no data rows")
    return _finish_frame(df, label, df_sep, notes, text=(lambda: text) if df_sep else None)


def _parse_text(text: str, separator: str, label: str) -> tuple[pd.DataFrame, list[str]]:
    """The table in ``text`` and the warnings about its records. pyarrow reads a well-formed table; one it
    refuses (records with more or fewer fields than the header) goes to pandas' C parser, which says what is
    wrong with a record too long and fills one too short with missing values: those are counted, and records
    cut in two by a stray carriage return are mended (data.records)."""
    try:
        return _pyarrow_text(text, separator), []
    except Exception:  # noqa: BLE001 - pyarrow is strict about ragged rows
        pass
    mended = mend_bare_returns(text, separator)
    if mended is not None:
        marked, cut = mended
        try:
            df = _pyarrow_text(marked, separator)
        except Exception:  # noqa: BLE001
            df = _c_parser_text(marked, separator, label)
        for col in df.columns:
            if isinstance(df[col].dtype, pd.StringDtype) or df[col].dtype == object:
                df[col] = df[col].str.replace(CR_MARK, "\r", regex=False)
        return df, [mended_warning(label, cut, df.shape[1])]
    df = _c_parser_text(text, separator, label)
    short = short_records(text, separator, label)
    return df, [short] if short else []


def _pyarrow_text(text: str, separator: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(text.encode("utf-8")), sep=separator, engine="pyarrow", na_values=READ_NA,
                       keep_default_na=False)


def _c_parser_text(text: str, separator: str, label: str) -> pd.DataFrame:
    df = pd.read_csv(io.StringIO(text), sep=separator, na_values=READ_NA, keep_default_na=False,
                     skipinitialspace=True)
    _check_index(df, label)
    return df


def _finish_frame(df: pd.DataFrame, label: str, sep: str | None = None, notes: list[str] | None = None,
                  text: Callable[[], str] | None = None) -> pd.DataFrame:
    """Column names checked, rows a stray quote merged counted (or mended, given the file's ``text``), text
    cells cleaned; the warnings left in ``df.attrs[ATTR]``."""
    sep = df.attrs.pop("mlcli_sep", sep)
    notes = list(notes or [])
    _name_columns(df, label)
    merged = find_merged(df, sep) if sep else None
    if merged is not None:
        mended = lines_as_records(text(), sep) if text is not None else None
        reread = None
        if mended is not None:  # a quote that opens a value and never closes on its line is an ordinary character
            csv_text, lines, width = mended
            try:
                reread = _pyarrow_text(csv_text, sep)
            except Exception:  # noqa: BLE001 - not expected of a file csv.writer wrote; keep what was read
                reread = None
        if reread is None:
            notes.append(merged.warning(label))
        else:
            df = reread
            _name_columns(df, label)
            notes.append(merged.mended_warning(label, lines, len(df), width))
    df = _clean_strings(df)
    df.attrs[ATTR] = notes
    return df


def _name_columns(df: pd.DataFrame, label: str) -> None:
    names = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    df.columns = names
    dupes = [n for n, k in Counter(names).items() if k > 1]  # linear: 10,000 columns are not 10^8 comparisons
    if dupes:
        raise DataError(f"{label} has duplicate column names: {quote_list(dupes)}; give every column its own name")


def _file_text(path: str) -> str:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        return fh.read()


def fingerprint(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(",".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return "sha256:" + h.hexdigest()[:16]
