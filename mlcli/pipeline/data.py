"""Loading tables, choosing the target, inferring the task and the role of every column."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcli.errors import ConfigError, DataError, SchemaError, did_you_mean, quote_list

NA_VALUES = ["", "?", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "none", "-", "#N/A"]
TARGET_NAMES = ("target", "label", "labels", "class", "y", "outcome", "response")
TASKS = ("binary", "multiclass", "regression")
ROLES = ("numeric", "categorical", "text", "datetime", "identifier", "constant", "dropped")
_PARQUET = (".parquet", ".pq")
_JSONL = (".jsonl", ".ndjson", ".json")


# --------------------------------------------------------------------------------------------- loading

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
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{label} is not a readable table: {first}") from exc
    except Exception as exc:  # pyarrow / parquet errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
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


# --------------------------------------------------------------------------------------------- target & task

def choose_target(df: pd.DataFrame, target: str | None) -> tuple[str, str]:
    """Return (target column, how it was chosen)."""
    if target:
        if target in df.columns:
            return target, "given"
        lowered = {c.lower(): c for c in df.columns}
        if target.lower() in lowered:
            return lowered[target.lower()], "given"
        raise DataError(f"target column '{target}' not found{did_you_mean(target, df.columns)}; "
                        f"columns are: {quote_list(df.columns, 20)}")
    lowered = {c.lower(): c for c in df.columns}
    for name in TARGET_NAMES:
        if name in lowered:
            return lowered[name], f"named like a label ('{lowered[name]}'); use --target to choose another"
    return df.columns[-1], f"the last column ('{df.columns[-1]}'); use --target to choose another"


def _is_integral(s: pd.Series) -> bool:
    v = s.dropna()
    return pd.api.types.is_integer_dtype(v) or (pd.api.types.is_float_dtype(v) and bool(np.all(np.mod(v, 1) == 0)))


def infer_task(y: pd.Series, task: str | None = None) -> str:
    y = y.dropna()
    n_classes = y.nunique()
    if task:
        task = task.lower()
        if task in ("classification", "classify"):
            task = "binary" if n_classes == 2 else "multiclass"
        if task not in TASKS:
            raise ConfigError(f"unknown task '{task}'{did_you_mean(task, TASKS)}; valid tasks: {', '.join(TASKS)}")
        if task == "regression" and not pd.api.types.is_numeric_dtype(y):
            raise DataError(f"--task regression needs a numeric target, but '{y.name}' holds values like "
                            f"'{y.iloc[0]}'")
        if task == "binary" and n_classes > 2:
            raise DataError(f"--task binary, but target '{y.name}' has {n_classes} classes; use --task multiclass")
    elif pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        task = "binary" if n_classes <= 2 else "multiclass"
    elif _is_integral(y) and n_classes <= 10:
        task = "binary" if n_classes <= 2 else "multiclass"
    else:
        task = "regression"
    if task != "regression" and n_classes < 2:
        only = y.iloc[0] if len(y) else "nothing"
        raise DataError(f"target '{y.name}' has only one class ('{only}'); a classifier needs at least two")
    if task == "regression" and y.nunique() < 2:
        raise DataError(f"target '{y.name}' is constant; there is nothing to predict")
    return task


# --------------------------------------------------------------------------------------------- roles

@dataclass
class ColumnInfo:
    name: str
    dtype: str
    role: str
    reason: str = ""
    n_unique: int = 0
    missing: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Schema:
    """What a model was trained on: every input column, its dtype and role."""

    target: str
    task: str
    columns: list[ColumnInfo] = field(default_factory=list)

    def by_role(self, role: str) -> list[str]:
        return [c.name for c in self.columns if c.role == role]

    @property
    def used(self) -> list[ColumnInfo]:
        return [c for c in self.columns if c.role in ("numeric", "categorical", "text", "datetime")]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "task": self.task, "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Schema:
        return cls(d["target"], d["task"], [ColumnInfo(**c) for c in d["columns"]])


_ID_NAMES = ("id", "index", "key", "uuid", "rownames", "row", "passengerid", "customerid", "record")


def _looks_like_id_name(name: str) -> bool:
    n = name.lower().replace("_", "").replace(" ", "").replace("-", "")
    return n in _ID_NAMES or n.endswith("id") or n.startswith("id")


def _datetime_like(s: pd.Series) -> bool:
    sample = s.dropna().astype(str).head(200)
    if len(sample) == 0 or sample.str.len().median() < 6 or not sample.str.contains(r"\d[-/:.]\d", regex=True).all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return parsed.notna().mean() > 0.95


def infer_role(s: pd.Series, n_unique: int | None = None) -> tuple[str, str]:
    n = len(s)
    nonnull = s.dropna()
    if n_unique is None:
        n_unique = nonnull.nunique()
    if n_unique <= 1:
        return "constant", "a single value" if n_unique else "all missing"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime", "datetime values"
    if pd.api.types.is_bool_dtype(s):
        return "categorical", "true/false"
    if pd.api.types.is_numeric_dtype(s):
        if _is_integral(nonnull) and n_unique == len(nonnull) == n and n >= 20:
            ordered = np.sort(nonnull.to_numpy())
            consecutive = bool(np.all(np.diff(ordered) == 1))
            if _looks_like_id_name(str(s.name)) or consecutive:
                return "identifier", "a distinct integer per row"
        return "numeric", ""
    text = nonnull.astype(str)
    if len(text) > 5000:  # the shape of the values is judged on a sample; counts use every row
        text = text.sample(5000, random_state=0)
    if _datetime_like(text):
        return "datetime", "parses as dates"
    words = text.str.count(r"\s+") + 1
    unique_ratio = n_unique / max(len(nonnull), 1)
    if words.mean() >= 3 and unique_ratio > 0.3:
        return "text", f"free text ({words.mean():.1f} words on average)"
    if n_unique == len(nonnull) and n >= 20 and (unique_ratio == 1.0):
        return "identifier", "a distinct value per row"
    if unique_ratio > 0.9 and n >= 50 and _looks_like_id_name(str(s.name)):
        return "identifier", "a distinct value per row"
    return "categorical", ""


def _split_names(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def infer_schema(df: pd.DataFrame, target: str, task: str, *, drop: list[str] | None = None,
                 categorical: list[str] | None = None, text: list[str] | None = None,
                 numeric: list[str] | None = None) -> Schema:
    overrides: dict[str, str] = {}
    for role, names in (("dropped", drop), ("categorical", categorical), ("text", text), ("numeric", numeric)):
        for name in _split_names(names):
            if name not in df.columns:
                raise DataError(f"column '{name}' (given with --{role.replace('dropped', 'drop')}) not found"
                                f"{did_you_mean(name, df.columns)}")
            if name == target:
                raise DataError(f"column '{name}' is the target; it cannot also be given a feature role")
            overrides[name] = role
    columns = []
    for col in df.columns:
        if col == target:
            continue
        s = df[col]
        n_unique = int(s.nunique())
        if col in overrides:
            role, reason = overrides[col], "set by you"
            if role == "numeric" and not pd.api.types.is_numeric_dtype(s):
                bad = pd.to_numeric(s.dropna(), errors="coerce").isna()
                if bad.any():
                    raise DataError(f"--numeric column '{col}' has non-numeric values like "
                                    f"'{s.dropna()[bad].iloc[0]}'")
        else:
            role, reason = infer_role(s, n_unique)
        columns.append(ColumnInfo(col, str(s.dtype), role, reason, n_unique, round(float(s.isna().mean()), 4)))
    schema = Schema(target, task, columns)
    if not schema.used:
        raise DataError("no usable feature columns: every column was dropped (identifier, constant or --drop)")
    return schema


def as_strings(s: pd.Series) -> pd.Series:
    """The values as text, missing values left missing: categorical levels renamed, other values str()'d."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        levels = s.cat.categories
        return s if all(isinstance(c, str) for c in levels) else s.cat.rename_categories([str(c) for c in levels])
    if isinstance(s.dtype, pd.StringDtype) or pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        return s
    return s.map(lambda v: v if pd.isna(v) or isinstance(v, str) else str(v))


def prepare_frame(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The feature frame a pipeline is fitted on: used columns only, with dtypes fixed by role."""
    out = {}
    for info in schema.used:
        s = df[info.name]
        if info.role == "numeric":
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                s = pd.to_numeric(s, errors="coerce")
            s = s.astype("float64")  # no copy when it already is (copy-on-write)
        elif info.role in ("categorical", "text"):
            s = as_strings(s)
            if info.role == "categorical":  # codes and one copy of each level: small, and fast to encode
                s = s.astype("category")
            else:
                s = s.astype("object").where(s.notna(), np.nan)  # NaN: what SimpleImputer treats as missing
        out[info.name] = s
    return pd.DataFrame(out, index=df.index, copy=False)  # shares the loaded columns, no consolidated copy


def drop_missing_target(df: pd.DataFrame, target: str) -> tuple[pd.DataFrame, int]:
    missing = int(df[target].isna().sum())
    if missing == len(df):
        raise DataError(f"target column '{target}' is empty: every value is missing")
    return (df[df[target].notna()].reset_index(drop=True) if missing else df), missing


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def check_against_schema(df: pd.DataFrame, schema: Schema, label: str = "the data") -> pd.DataFrame:
    """Check new data against a trained model's schema; return the feature frame or name what is wrong."""
    missing = [c.name for c in schema.used if c.name not in df.columns]
    if missing:
        close = "".join(did_you_mean(m, df.columns) for m in missing[:1])
        raise SchemaError(f"{label} is missing {len(missing)} column(s) the model was trained on: "
                          f"{quote_list(missing)}{close}")
    mistyped = []
    for info in schema.used:
        if info.role != "numeric":
            continue
        s = df[info.name]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        values = s.dropna()
        bad = pd.to_numeric(values, errors="coerce").isna()
        if bad.any():
            mistyped.append(f"'{info.name}' should be numeric but holds values like '{values[bad].iloc[0]}'")
    if mistyped:
        raise SchemaError(f"{label} has column(s) of the wrong type: " + "; ".join(mistyped))
    return prepare_frame(df, schema)
