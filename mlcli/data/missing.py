"""Missing values: the spellings every reader takes as missing, and the few that are missing only where the rest
of the column says so (a class called 'none' stays a class)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def clean_strings(df: pd.DataFrame) -> pd.DataFrame:
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
