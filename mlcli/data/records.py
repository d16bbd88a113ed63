"""Rows that a quote merged into the value before them.

A field that opens with a quote that is never closed where its row ends (an SMS that begins with `"`) runs
on, over line ends and separators, to the next quote in the file: every row in between becomes part of that
one value, labels included, and the table is silently shorter. A careful reader counts records against
lines. Values that run over several lines are legitimate in CSV (quoted text with line breaks); what marks
the fault is that the lines a value swallowed look like rows: as many fields as a row has, a number where
the table has a numeric column and a known level where it has a column of few levels (a label).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ATTR = "mlcli_read_warnings"  # where read_table leaves the warnings on the frame for the caller to tell


def merged_rows(df: pd.DataFrame, sep: str, label: str) -> str | None:
    """A warning naming the values that swallowed whole rows, or None."""
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
    start = value.split("\n")[0][:30]
    return (f"{label}: {swallowed} line(s) that look like rows were read as part of {cells} value(s), so "
            f"{len(df):,} records were read where the file has about {len(df) + swallowed:,}: the value of "
            f"'{col}' in data row {row + 1:,} (starting {start!r}) opens with a quote that is not closed where its "
            "row ends, and runs on to the next quote; double that quote (\"\") or remove it")


def _field_checks(df: pd.DataFrame) -> list:
    """Per column, what a field of a real row holds there: a number, one of a few known levels, or anything."""
    out = []
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s):
            out.append("number")
            continue
        levels = s.dropna().astype(str).str.strip()
        unique = set(levels.unique()[:51])
        out.append(unique if len(unique) <= 50 else None)
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
