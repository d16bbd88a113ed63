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


GROUPED = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 2,146 or 1,234,567.5: a thousands separator
PLAIN = r"[+-]?\d+(?:\.\d+)?"
DECIMAL_COMMA = r"[+-]?\d+,\d+"  # 261,96: a decimal comma (a European spreadsheet)
SAMPLE = 200
NOTES = "mlcli_read_notes"


def _numbers_written_with_commas(present: pd.Series, sep: str | None) -> tuple[pd.Series, str] | None:
    """A column of numbers written with commas, read as numbers: thousands separators (`2,146`) where every
    value is a plain or a grouped number, decimal commas (`261,96`) where every value is a plain number or
    digits, a comma and digits with some group not of three digits (or the file separated by semicolons,
    where a comma is the decimal mark); (numbers, what was read) or None."""
    text = present.astype(str)
    with_comma = text[text.str.contains(",", regex=False)]
    if with_comma.empty:
        return None
    plain = text.str.fullmatch(PLAIN)
    if (plain | text.str.fullmatch(GROUPED)).all() and not (sep == ";" and with_comma.str.fullmatch(
            DECIMAL_COMMA).all()):
        return pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce"), "a thousands separator"
    if (plain | text.str.fullmatch(DECIMAL_COMMA)).all() and \
            (sep == ";" or not with_comma.str.fullmatch(r"[+-]?\d{1,3},\d{3}").all()):
        return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce"), "a decimal comma"
    return None


def clean_strings(df: pd.DataFrame, sep: str | None = None) -> pd.DataFrame:
    """Strip surrounding blanks from text cells and turn the missing-value spellings into NaN.

    Columns pyarrow read as strings stay Arrow-backed strings (vectorised, and a fraction of the memory of
    Python string objects); other non-numeric columns (mixed JSON values) become cleaned Python objects.
    """
    na = READ_NA
    notes: list[str] = []  # what was read differently from the file's spelling (df.attrs[NOTES])
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
        if not len(present) or _all_numbers(present.head(SAMPLE)):
            converted = pd.to_numeric(stripped, errors="coerce")
            if converted.notna().sum() == len(present):
                df[col] = converted
                continue
        elif present.head(SAMPLE).astype(str).str.fullmatch(f"{PLAIN}|{GROUPED}|{DECIMAL_COMMA}").all():
            found = _numbers_written_with_commas(present, sep)
            if found is not None:
                numbers, how = found
                df[col] = pd.Series(np.nan, index=df.index, dtype="float64")
                df.loc[present.index, col] = numbers.to_numpy(dtype="float64")
                notes.append(f"column '{col}': numbers written with {how} (like '{_example(present)}') read as "
                             "numbers")
                continue
        df[col] = stripped
    df.attrs[NOTES] = notes
    return df


def _example(present: pd.Series) -> str:
    text = present.astype(str)
    comma = text[text.str.contains(",", regex=False)]
    return str(comma.iloc[0] if len(comma) else text.iloc[0])


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
