"""Reading tables: CSV/TSV (separator sniffed), Parquet, JSON Lines, from a path or stdin; encodings,
missing-value spellings, streamed reading of large files, and a fingerprint of what was read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcli.errors import DataError, first_line, quote_list

NA_VALUES = ["", "?", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "none", "-", "#N/A"]
_PARQUET = (".parquet", ".pq")
_JSONL = (".jsonl", ".ndjson", ".json")


def _read_source(path: str, stdin: Any = None) -> tuple[bytes, str]:
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return data, "<stdin>"
    p = Path(path)
    if not p.exists():
        raise DataError(f"file not found: {path}")
    if p.is_dir():
        raise DataError(f"{path} is a directory, not a data file")
    return p.read_bytes(), path


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


def sniff_separator(sample: str) -> str:
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {sep: lines[0].count(sep) for sep in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _clean_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Strip surrounding blanks from text cells and turn the missing-value spellings into NaN.

    Columns pyarrow read as strings stay Arrow-backed strings (vectorised, and a fraction of the memory of
    Python string objects); other non-numeric columns (mixed JSON values) become cleaned Python objects.
    """
    na = list(NA_VALUES)
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
        present = stripped.dropna()
        # a column that was numeric apart from blanks / '?' becomes numeric again (tried on a sample first)
        if len(present) and pd.to_numeric(present.head(200), errors="coerce").notna().all():
            converted = pd.to_numeric(stripped, errors="coerce")
            if converted.notna().sum() == len(present):
                df[col] = converted
                continue
        df[col] = stripped
    return df


def _read_csv_file_directly(path: str, sep: str | None, encoding: str | None) -> pd.DataFrame | None:
    """The fast path for a UTF-8 CSV/TSV file: pyarrow reads it straight from disk, with no copy of its text
    held in Python. None when the file needs the careful path (other encodings, odd shapes, errors to explain)."""
    p = Path(path)
    if path == "-" or encoding not in (None, "utf-8", "utf8") or p.suffix.lower() in (*_PARQUET, *_JSONL):
        return None
    try:
        with p.open("rb") as fh:
            head = fh.read(65536)
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
    df = _stream_csv(p, separator) if p.stat().st_size > STREAM_BYTES else None
    if df is None:
        try:
            df = pd.read_csv(p, sep=separator, engine="pyarrow", na_values=NA_VALUES, keep_default_na=True)
        except Exception:
            return None
    return df if df.shape[1] >= 2 and len(df) else None


STREAM_BYTES = 64 * 2**20  # files larger than this are read block by block
STREAM_BLOCK = 4 * 2**20


def _stream_csv(path: Path, separator: str) -> pd.DataFrame | None:
    """A large CSV read one block (4 MiB) at a time: pyarrow's whole-file reader holds about three times the
    table in parse buffers at its peak, the streaming reader one block's worth. Column types come from the
    first block; a later block that does not fit them (None) sends the file to the whole-file reader."""
    import pyarrow as pa
    from pyarrow import csv as pacsv
    try:  # pandas' own missing-value spellings, which the whole-file reader adds (keep_default_na)
        from pandas._libs.parsers import STR_NA_VALUES
    except ImportError:
        STR_NA_VALUES = set()
    nulls = sorted(set(NA_VALUES) | set(STR_NA_VALUES))
    try:
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=STREAM_BLOCK),
                                parse_options=pacsv.ParseOptions(delimiter=separator),
                                convert_options=pacsv.ConvertOptions(null_values=nulls, strings_can_be_null=True))
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
        return _finish_frame(fast, path)
    raw, label = _read_source(path, stdin)
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
            separator = sep or sniff_separator(text[:65536])
            if separator == "\\t":
                separator = "\t"
            try:
                df = pd.read_csv(io.BytesIO(text.encode("utf-8")), sep=separator, engine="pyarrow",
                                 na_values=NA_VALUES, keep_default_na=True)
            except Exception:  # pyarrow is strict about ragged rows; the C parser says what is wrong
                df = pd.read_csv(io.StringIO(text), sep=separator, na_values=NA_VALUES,
                                 keep_default_na=True, skipinitialspace=True)
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
    return _finish_frame(df, label)


def _finish_frame(df: pd.DataFrame, label: str) -> pd.DataFrame:
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise DataError(f"{label} has duplicate column names: {quote_list(dupes)}")
    return _clean_strings(df)


def fingerprint(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update(",".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).values.tobytes())
    return "sha256:" + h.hexdigest()[:16]
