"""CatBoost's settings in mlcli against the library's own, on the gauntlet (issue 25, point 6).

mlcli fits CatBoost with 500 iterations at most (early-stopped), one-hot encoding for categoricals of up to 64
levels and ctr combinations of one column (`max_ctr_complexity=1`): the speed settings of the cv work (issue
14). The library's own defaults are 1,000 iterations, `one_hot_max_size=2` and `max_ctr_complexity=4`. Each
setting below is scored with mlcli's pipelines (early stopping as in `train`) on every gauntlet table with a
categorical column: by 5-fold cross-validation on the training part for files of at most --cv-max-rows rows,
by one fit on the training part scored on the held-out part above that; the fit seconds are summed.

    python benchmarks/gauntlet/catboost_settings.py [--max-rows 20000] [--cv-max-rows 3000] [--files a,b]

Printed per file: each setting's score (ROC AUC binary, macro F1 multiclass, R² regression) and seconds; then per
setting the mean score difference to mlcli's, the files better / worse by more than 0.005, and the time ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from default_policy import cached_rows, fit_predict, folds, score_of  # noqa: E402

SETTINGS = {
    "mlcli": {},
    "1000 iterations": {"iterations": 1000},
    "library ctr": {"one_hot_max_size": 2, "max_ctr_complexity": 4},
    "library defaults": {"iterations": 1000, "one_hot_max_size": 2, "max_ctr_complexity": 4},
}


def run_file(name: str, spec, cache: Path, max_rows: int, cv_max_rows: int) -> dict | None:
    from mlcli.data.dataset import DataOptions, encode_classes, encode_target, load_dataset
    from mlcli.data.read import read_table
    from mlcli.data.schema import check_against_schema

    ds = load_dataset(DataOptions(str(next(cache.glob(f"{name}.train.*"))), spec.target))
    if len(ds.y) > max_rows or not ds.schema.by_role("categorical"):
        return None
    y, classes = encode_classes(ds)
    if len(y) > cv_max_rows:
        test = next(cache.glob(f"{name}.test.*"))
        df = read_table(str(test))
        df = df[df[spec.target].notna()].reset_index(drop=True)
        splits = [(ds.X, y, check_against_schema(df, ds.schema, str(test), None, notify=lambda _line: None),
                   encode_target(df[spec.target], ds.task, classes))]
        how = "held-out"
    else:
        splits = [(ds.X.iloc[a], y[a], ds.X.iloc[v], y[v]) for a, v in folds(ds.task, ds.X, y, classes)
                  if ds.task == "regression" or len(np.unique(y[a])) == len(classes)]
        how = "5-fold"
    out = {"file": name, "task": ds.task, "rows": len(y), "how": how, "score": {}, "seconds": {}}
    for label, params in SETTINGS.items():
        t0 = time.perf_counter()
        scores = [score_of(ds.task, yv, fit_predict(ds.schema, "catboost", X, yy, Xv, ds.task, params))
                  for X, yy, Xv, yv in splits if ds.task != "binary" or len(np.unique(yv)) == 2]
        out["seconds"][label] = time.perf_counter() - t0
        out["score"][label] = float(np.mean(scores))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-rows", type=int, default=20000)
    ap.add_argument("--cv-max-rows", type=int, default=3000)
    ap.add_argument("--files", default="")
    ap.add_argument("--cache", type=Path, default=HERE / "cache")
    ap.add_argument("--out", type=Path, default=HERE / "runs" / "catboost.jsonl")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from manifest import BY_NAME

    index = json.loads((args.cache / "index.json").read_text())
    names = [n for n in (args.files.split(",") if args.files else sorted(index)) if n and BY_NAME[n].target]
    rows = []
    for row in cached_rows(names, args.out, False,
                           lambda n: run_file(n, BY_NAME[n], args.cache, args.max_rows, args.cv_max_rows)):
        rows.append(row)
        name = row["file"]
        cells = " ".join(f"{row['score'][s]:7.4f} {row['seconds'][s]:5.0f}s" for s in SETTINGS)
        print(f"{name:20s} {row['task']:10s} {row['rows']:6d} {row['how']:8s} {cells}", flush=True)
    print()
    for label in SETTINGS:
        diff = [r["score"][label] - r["score"]["mlcli"] for r in rows]
        ratio = sum(r["seconds"][label] for r in rows) / max(sum(r["seconds"]["mlcli"] for r in rows), 1e-9)
        if diff:
            print(f"{label:18s} mean difference to mlcli's {np.mean(diff):+.4f}; better by > 0.005 on "
                  f"{sum(d > 0.005 for d in diff)}, worse on {sum(d < -0.005 for d in diff)} of {len(diff)}; "
                  f"time {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
