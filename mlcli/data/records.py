"""Records that do not match the lines they come from: rows a quote merged into the value before them, and rows
cut short (a carriage return outside quotes ends a record early).

A field that opens with a quote that is never closed where its row ends (an SMS that begins with `"`) runs
on, over line ends and separators, to the next quote in the file: every row in between becomes part of that
one value, labels included, and the table is silently shorter. A careful reader counts records against
lines. Values that run over several lines are legitimate in CSV (quoted text with line breaks); what marks
the fault is that the lines a value swallowed look like rows: as many fields as a row has, a number where
the table has a numeric column and a known level where it has a column of few levels (a label).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

ATTR = "mlcli_read_warnings"  # where read_table leaves the warnings on the frame for the caller to tell
CR_MARK = "\ue000"  # stands in for a carriage return inside a value while a mended file is parsed
_BARE_CR = re.compile(r"\r(?!\n)")


@dataclass
class Merged:
    """Values that swallowed lines looking like rows: how many, and the first (data row, column, its start)."""

    swallowed: int
    cells: int
    row: int
    col: str
    start: str
    records: int  # records read

    def warning(self, label: str) -> str:
        return (f"{label}: {self.swallowed} line(s) that look like rows were read as part of {self.cells} "
                f"value(s), so {self.records:,} records were read where the file has about "
                f"{self.records + self.swallowed:,}: {self._first()} opens with a quote that is not closed where "
                "its row ends, and runs on to the next quote; double that quote (\"\") or remove it")

    def mended_warning(self, label: str, lines: int, records: int, width: int) -> str:
        return (f"{label}: {lines} line(s) have a value that opens with a quote and does not close it on that line "
                f"(the first: {self._first()}); read as CSV, it runs on to the next quote, swallowing "
                f"{self.swallowed} line(s) that look like rows; read instead with that quote as an ordinary "
                f"character, as every line then has the header's {width} fields: {records:,} records, one per "
                "line; double that quote (\"\") or remove it")

    def _first(self) -> str:
        return f"the value of '{self.col}' in data row {self.row + 1:,} (starting {self.start!r})"


def merged_rows(df: pd.DataFrame, sep: str, label: str) -> str | None:
    """A warning naming the values that swallowed whole rows, or None."""
    found = find_merged(df, sep)
    return found.warning(label) if found else None


def find_merged(df: pd.DataFrame, sep: str) -> Merged | None:
    """The values of ``df`` (read with separator ``sep``) that swallowed lines looking like rows, or None."""
    if len(sep) != 1 or df.shape[1] < 2:
        return None
    first, cells, swallowed = None, 0, 0
    checks = None
    for col in df.columns:
        s = df[col]
        if not (isinstance(s.dtype, pd.StringDtype) or s.dtype == object):
            continue
        multi = s.astype("string").str.contains("\n", regex=False).fillna(False).to_numpy(dtype=bool)
        if not multi.any():
            continue
        checks = checks if checks is not None else _field_checks(df)
        for row in np.flatnonzero(multi):
            rows = [ln for ln in str(s.iloc[row]).split("\n")[1:] if _row_like(ln, sep, checks)]
            if rows:
                cells += 1
                swallowed += len(rows)
                first = first or (int(row), str(col), str(s.iloc[row]))
    if first is None:
        return None
    row, col, value = first
    return Merged(swallowed, cells, row, col, value.split("\n")[0][:30], len(df))


def lines_as_records(text: str, sep: str) -> tuple[str, int, int] | None:
    """The file as standard CSV (separator ``sep``) with one record per non-blank line, when every line gives the
    header's number of fields: read as CSV where its quotes close within the line, else with quotes taken as
    ordinary characters. (the CSV text, how many lines were read the second way, the number of fields); None
    when some line gives another number of fields either way (a quoted value over several lines, legitimately
    or not, or a ragged row)."""
    if len(sep) != 1:
        return None
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    width, literal, records = None, 0, 0
    for line in io.StringIO(text, newline="\n"):
        body = line.rstrip("\r\n")
        if not body.strip():
            continue
        reader = csv.reader([body, ""], delimiter=sep, skipinitialspace=True)
        try:
            fields = next(reader)
            closed = reader.line_num == 1
        except csv.Error:
            closed = False
        if not closed or (width is not None and len(fields) != width):
            fields = body.split(sep)
            literal += 1
        width = width or len(fields)
        if len(fields) != width:
            return None
        writer.writerow(fields)
        records += 1
    if not literal or records < 2:
        return None
    return out.getvalue(), literal, width


def _field_checks(df: pd.DataFrame) -> list:
    """Per column, what a field of a real row holds there: a number, one of a few known levels, or anything (a
    column of more than 50 values, or where most values differ: free text, even in a chunk of 50 rows)."""
    out = []
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s):
            out.append("number")
            continue
        levels = s.dropna().astype(str).str.strip()
        unique = set(levels.unique()[:51])
        out.append(unique if len(unique) <= min(50, len(levels) // 2) else None)
    return out


def _row_like(line: str, sep: str, checks: list) -> bool:
    fields = [f.strip().strip('"') for f in line.rstrip("\r").split(sep)]
    if len(fields) != len(checks):
        return False
    tested = 0
    for field, check in zip(fields, checks):
        if check is None or field in ("", "NA", "?"):
            continue
        tested += 1
        if check == "number":
            try:
                float(field.replace(",", ""))
            except ValueError:
                return False
        elif field not in check:
            return False
    return tested > 0


# ------------------------------------------------------------------------------------------- short records


def _field_counts(text: str, sep: str) -> tuple[int, list[tuple[int, int]]]:
    """(fields of the header, [(line where it starts, fields)] of each non-blank record after it), records cut
    as pandas and Python's csv module cut them: a line ends at \n, \r\n or a lone \r outside quotes."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True)
    header, counts, start = None, [], 1
    for fields in reader:
        if fields and not (len(fields) == 1 and not fields[0].strip()):
            if header is None:
                header = len(fields)
            else:
                counts.append((start, len(fields)))
        start = reader.line_num + 1
    return header or 0, counts


def mend_bare_returns(text: str, sep: str) -> tuple[str, int] | None:
    """A file whose records some carriage returns (\r not followed by \n, outside quotes) cut in two, with those
    returns marked (CR_MARK) so that they stay inside their values, and how many records they cut; None when
    the file has no such return, or when marking them does not give every record the header's fields."""
    if len(sep) != 1 or "\r" not in text or CR_MARK in text or not _BARE_CR.search(text):
        return None
    try:
        header, before = _field_counts(text, sep)
        marked = _BARE_CR.sub(CR_MARK, text)
        width, after = _field_counts(marked, sep)
    except csv.Error:
        return None
    if width != header or any(n != header for _, n in after) or len(after) >= len(before):
        return None
    return marked, len(before) - len(after)


def mended_warning(label: str, cut: int, width: int) -> str:
    return (f"{label}: {cut} value(s) hold a carriage return (\\r) outside quotes, which in CSV ends a record "
            "(cutting it in two, the values after the return under the wrong columns); read as part of their "
            f"values, as then every record has the header's {width} fields; quote values that hold line breaks")


def short_records(text: str, sep: str, label: str) -> str | None:
    """A warning counting the records with fewer fields than the header (pandas fills the fields they lack with
    missing values, so any values after a break sit under the wrong columns), naming the likely cause; None
    when there are none."""
    if len(sep) != 1:
        return None
    try:
        header, counts = _field_counts(text, sep)
    except csv.Error:
        return None
    short = [(line, n) for line, n in counts if n < header]
    if not short:
        return None
    line, n = short[0]
    bare = sum(1 for _ in _BARE_CR.finditer(text))
    cause = (f"; the file has {bare} carriage return(s) (\\r) that are not part of a line end: outside quotes, "
             "each ends a record, cutting it in two" if bare else "")
    return (f"{label}: {len(short):,} record(s) have fewer fields than the header's {header} (the first at line "
            f"{line:,}, with {n}), so the fields they lack were read as missing{cause}; quote values that hold a "
            "separator, a quote or a line break")


def drop_repeated_headers(df: pd.DataFrame, label: str) -> tuple[pd.DataFrame, str | None]:
    """Rows that repeat the header line (files joined with `cat a.csv b.csv`, each with its header) left out:
    every cell equal to its column's name. Without this, one such row turns every numeric column into text
    and a numeric target into classes. (the frame, a warning or None)."""
    if df.empty or not len(df.columns):
        return df, None
    first = df.columns[0]
    hit = df[first].astype(str).str.strip() == str(first)  # cheap first pass: one column
    if not hit.any():
        return df, None
    for col in df.columns[1:]:
        rows = hit[hit].index
        hit.loc[rows] = df.loc[rows, col].astype(str).str.strip() == str(col)
    count = int(hit.sum())
    if not count:
        return df, None
    where = int(np.flatnonzero(hit.to_numpy())[0]) + 1
    kept = df.loc[~hit].reset_index(drop=True)
    kept.attrs = dict(df.attrs)
    line = (f"{label}: the header line is repeated {count:,} time(s) among the data (first as data row {where:,}; "
            "files joined with their headers?); those lines were left out")
    return kept, line
