"""Reading tables: CSV/TSV (separator sniffed), Parquet, JSON Lines, from a path or stdin; encodings,
missing-value spellings, streamed reading of large files, and a fingerprint of what was read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from mlcli.data.missing import NOTES, READ_NA, clean_strings
from mlcli.data.records import (
    ATTR,
    CR_MARK,
    drop_repeated_headers,
    find_merged,
    lines_as_records,
    mend_bare_returns,
    mended_warning,
    short_records,
)
from mlcli.data.source import HEAD_BYTES, decode, read_source
from mlcli.errors import DataError, first_line, quote_list

_PARQUET = (".parquet", ".pq")
_JSONL = (".jsonl", ".ndjson", ".json")


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
    raw, label = read_source(path, stdin)
    df_sep = None  # the separator of a CSV/TSV read here, for the check of merged rows
    notes: list[str] = []  # what reading found wrong with the records (data.records), for the caller to tell
    if not raw.strip():
        raise DataError(f"{label} is empty")
    lower = label.lower()
    try:
        if lower.endswith(_PARQUET) or raw[:4] == b"PAR1":
            df = pd.read_parquet(io.BytesIO(raw))
        elif lower.endswith(_JSONL) or raw.lstrip()[:1] == b"{":
            text = decode(raw, encoding, label)
            df = pd.read_json(io.StringIO(text), lines=True)
        else:
            text = decode(raw, encoding, label)
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
    df, repeated = drop_repeated_headers(df, label)
    if repeated:
        notes.append(repeated)
    df = clean_strings(df, sep)
    df.attrs[ATTR] = notes + df.attrs.pop(NOTES, [])
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
