"""Candidate settings for the default model on small tables, compared by cross-validation on the gauntlet.

For every gauntlet file whose training part has at most --max-rows rows and is not text-dominated (those get
the linear default), each candidate is scored by --repeats x 5-fold cross-validation on the training part only
(the held-out part stays unseen), with mlcli's own reading and pipelines; the main metric is ROC AUC (binary),
macro F1 (multiclass) or R² (regression). Printed: a row per file (each candidate's mean and its gap to the
best candidate, normalised between the baseline and that best) and per candidate the share of files within 0.02
of the best and the mean normalised gap.

    python benchmarks/gauntlet/small_defaults.py [--max-rows 3000] [--repeats 1] [--files a,b]
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
CANDIDATES = {
    "xgboost": ("xgboost", {}),
    "xgboost-shallow": ("xgboost", {"max_depth": 4, "min_child_weight": 2, "subsample": 0.8,
                                    "colsample_bytree": 0.8}),
    "logreg": ("logreg", {}),
}


def score(task, y, proba, pred):
    from sklearn.metrics import f1_score, r2_score, roc_auc_score

    if task == "binary":
        return roc_auc_score(y, proba[:, 1])
    if task == "multiclass":
        return f1_score(y, pred, average="macro")
    return r2_score(y, pred)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-rows", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--files", default="")
    ap.add_argument("--cache", type=Path, default=HERE / "cache")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from sklearn.model_selection import KFold, StratifiedKFold

    from mlcli.data.dataset import DataOptions, encode_classes, load_dataset
    from mlcli.experiments.defaults import text_dominated
    from mlcli.models.build import ModelConfig, build_pipeline

    index = json.loads((args.cache / "index.json").read_text())
    sys.path.insert(0, str(HERE))
    from manifest import BY_NAME

    names = [n for n in (args.files.split(",") if args.files else sorted(index)) if n
             and (args.files or index[n].get("rows", 0) * 0.8 <= args.max_rows)]
    gaps: dict[str, list[float]] = {c: [] for c in CANDIDATES}
    print(f"{'file':20s} {'task':10s} {'rows':>6s} " + " ".join(f"{c:>16s}" for c in CANDIDATES) + "  (gap)")
    for name in names:
        spec = BY_NAME[name]
        if not spec.target:
            continue
        train = next(args.cache.glob(f"{name}.train.*"))
        try:
            ds = load_dataset(DataOptions(str(train), spec.target))
        except Exception as exc:  # noqa: BLE001 - a file mlcli refuses is reported, not fatal here
            print(f"{name:20s} refused: {exc}")
            continue
        if len(ds.y) > args.max_rows or text_dominated(ds.schema):
            continue
        y, classes = encode_classes(ds)
        X = ds.X
        task = ds.task
        means = {}
        t0 = time.perf_counter()
        for cand, (model, params) in CANDIDATES.items():
            scores = []
            for r in range(args.repeats):
                if task == "regression":
                    folds = KFold(5, shuffle=True, random_state=r).split(X)
                else:
                    if np.bincount(y).min() < 5:
                        folds = KFold(5, shuffle=True, random_state=r).split(X)
                    else:
                        folds = StratifiedKFold(5, shuffle=True, random_state=r).split(X, y)
                for a, v in folds:
                    if task != "regression" and len(np.unique(y[a])) < len(classes):
                        continue  # a class seen once or twice missing from this fold's training rows
                    pipe = build_pipeline(ds.schema, ModelConfig(model, dict(params), seed=42))
                    pipe.fit(X.iloc[a], y[a])
                    proba = pipe.predict_proba(X.iloc[v]) if task != "regression" else None
                    pred = proba.argmax(1) if proba is not None else pipe.predict(X.iloc[v])
                    if task == "binary" and len(np.unique(y[v])) < 2:
                        continue
                    scores.append(score(task, y[v], proba, pred))
            means[cand] = float(np.mean(scores))
        best = max(means.values())
        floor = {"binary": 0.5, "regression": 0.0}.get(task)
        if floor is None:  # multiclass: macro F1 of predicting the majority class
            share = np.bincount(y).max() / len(y)
            floor = 2 * share / (1 + share) / len(classes)
        row = []
        for cand, m in means.items():
            g = (best - m) / (best - floor) if best > floor else 0.0
            gaps[cand].append(g)
            row.append(f"{m:8.4f} ({g:5.3f})")
        print(f"{name:20s} {task:10s} {len(y):6d} " + " ".join(f"{x:>16s}" for x in row)
              + f"  {time.perf_counter() - t0:.0f} s", flush=True)
    print()
    for cand, g in gaps.items():
        if g:
            within = sum(x <= 0.02 for x in g) / len(g)
            print(f"{cand:16s} within 0.02 of the best candidate on {within:.0%} of {len(g)} files; "
                  f"mean normalised gap {np.mean(g):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
