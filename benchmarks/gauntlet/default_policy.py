"""How should `train` choose its model when none is given? Policies compared on the gauntlet's held-out rows.

For every gauntlet file whose training part has at most --max-rows rows, each of the usual five models is
(1) scored by 5-fold cross-validation on the training part only and (2) fitted on the whole training part and
scored on the held-out part — mlcli's own reading, pipelines and defaults (small-data XGBoost, inner-fold early
stopping) throughout. A policy picks one model per file from what it may see (the cross-validation scores,
never the held-out part); the figure of merit is the issue's: is its held-out score within 0.02 of the best of
the five, normalised between the baseline and that best?

    python benchmarks/gauntlet/default_policy.py [--max-rows 3000] [--cv-max-rows 3000] [--files a,b]
                                                 [--out runs/policy.jsonl] [--fresh]

Printed: per file the five held-out scores, the cross-validation winner and the gap of each policy; then per
policy the share of files within 0.02, the median normalised gap and the cross-validation seconds it costs
(files above --cv-max-rows get held-out scores only and count for the fixed policies alone).
Results are appended to --out (one JSON line per file) and re-used on a second run (--fresh to refit).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
USUAL = ["logreg", "rf", "xgboost", "lightgbm", "catboost"]
POLICIES = {
    "today (+ catboost: small multiclass)": None,
    "before (xgboost; logreg on text)": "before",
    "cv: logreg, xgboost": ["logreg", "xgboost"],
    "cv: logreg, rf, xgboost": ["logreg", "rf", "xgboost"],
    "cv: logreg, rf, xgboost, lightgbm": ["logreg", "rf", "xgboost", "lightgbm"],
    "cv: all five": USUAL,
}
WITHIN = 0.02


def score(task: str, y, proba, pred) -> float:
    from sklearn.metrics import f1_score, r2_score, roc_auc_score

    if task == "binary":
        return float(roc_auc_score(y, proba[:, 1]))
    if task == "multiclass":
        return float(f1_score(y, pred, average="macro"))
    return float(r2_score(y, pred))


def fit_predict(schema, model: str, X, y, Xv, task: str, params: dict | None = None) -> np.ndarray:
    """Class probabilities (classification) or predictions (regression) of ``model`` fitted on X, y."""
    from mlcli.models.build import ModelConfig, build_pipeline

    pipe = build_pipeline(schema, ModelConfig(model, dict(params or {}), seed=42))
    pipe.fit(X, y)
    return pipe.predict_proba(Xv) if task != "regression" else pipe.predict(Xv)


def score_of(task: str, y, out: np.ndarray) -> float:
    return score(task, y, out if task != "regression" else None, out.argmax(1) if task != "regression" else out)


def folds(task: str, X, y, classes):
    from sklearn.model_selection import KFold, StratifiedKFold

    if task != "regression" and np.bincount(y, minlength=len(classes)).min() >= 5:
        return StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
    return KFold(5, shuffle=True, random_state=0).split(X)


def measure(name: str, spec, cache: Path, max_rows: int, cv_max_rows: int) -> dict | None:
    from mlcli.data.dataset import DataOptions, encode_classes, encode_target, load_dataset
    from mlcli.data.read import read_table
    from mlcli.data.schema import check_against_schema
    from mlcli.experiments.defaults import text_dominated

    train = next(cache.glob(f"{name}.train.*"))
    test = next(cache.glob(f"{name}.test.*"))
    ds = load_dataset(DataOptions(str(train), spec.target))
    if len(ds.y) > max_rows:
        return None
    y, classes = encode_classes(ds)
    df = read_table(str(test))
    df = df[df[spec.target].notna()].reset_index(drop=True)
    Xt = check_against_schema(df, ds.schema, str(test), None, notify=lambda _line: None)
    yt = encode_target(df[spec.target], ds.task, classes)
    if ds.task == "regression":
        base = score("regression", yt, None, np.full(len(yt), float(np.mean(y))))
    elif ds.task == "binary":
        base = 0.5
    else:
        base = score("multiclass", yt, None, np.full(len(yt), int(np.bincount(y).argmax())))
    out = {"file": name, "task": ds.task, "rows": len(y), "base": base, "held_out": {}, "cv": {}, "cv_s": {},
           "text_dominated": text_dominated(ds.schema)}
    for model in USUAL:
        t0 = time.perf_counter()
        scores = []
        for a, v in folds(ds.task, ds.X, y, classes) if len(y) <= cv_max_rows else ():
            if ds.task != "regression" and len(np.unique(y[a])) < len(classes):
                continue  # a rare class missing from this fold's training rows
            if ds.task == "binary" and len(np.unique(y[v])) < 2:
                continue
            scores.append(score_of(ds.task, y[v], fit_predict(ds.schema, model, ds.X.iloc[a], y[a], ds.X.iloc[v],
                                                               ds.task)))
        out["cv"][model] = float(np.mean(scores)) if scores else float("nan")
        out["cv_s"][model] = time.perf_counter() - t0
        pred = fit_predict(ds.schema, model, ds.X, y, Xt, ds.task)
        out["held_out"][model] = score_of(ds.task, yt, pred)
        out.setdefault("pred", {})[model] = np.asarray(pred, dtype=float).round(6).tolist()
    out["y_test"] = np.asarray(yt, dtype=float).tolist()
    return out


def gap(row: dict, model: str) -> float:
    return gap_of(row, row["held_out"][model])


def choose(row: dict, candidates: list[str] | str | None) -> str:
    if candidates in (None, "before"):  # today's rule (experiments.defaults), and the rule before issue 25's
        if row.get("text_dominated"):
            return "logreg"
        small_multiclass = row["task"] == "multiclass" and row["rows"] * 0.8 < 3000  # train fits on 80 %
        return "catboost" if small_multiclass and candidates is None else "xgboost"
    return max(candidates, key=lambda m: _cv(row, m))


def cached_rows(names: list[str], out: Path, fresh: bool, measure: Callable[[str], dict | None]
                ) -> Iterator[dict]:
    """Each file's row: from ``out`` (one JSON line per file) when it is there and not ``fresh``, else
    ``measure(name)``, appended to ``out`` as it comes; a file mlcli refuses is printed and skipped, and so is
    one ``measure`` returns None for."""
    done = {}
    if out.exists() and not fresh:
        done = {r["file"]: r for r in map(json.loads, out.read_text().splitlines()) if r}
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in names:
        row = done.get(name)
        if row is None:
            try:
                row = measure(name)
            except Exception as exc:  # noqa: BLE001 - a file mlcli refuses is reported, not fatal here
                print(f"{name:20s} refused: {str(exc).splitlines()[0]}", flush=True)
                continue
            if row is None:
                continue
            with out.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
        yield row


def summary(rows: list[dict]) -> None:
    """Per policy: the share of files within 0.02 of the best of the five, the mean gap, the CV seconds;
    the cross-validation policies over the files that were cross-validated (--cv-max-rows)."""
    print()
    fixed = {f"always {m}": [m] for m in USUAL}
    for label, cands in {**POLICIES, **fixed}.items():
        rule = cands is None or isinstance(cands, str)
        chosen = [r for r in rows if rule or len(cands) == 1 or r["cv"]]
        g = [gap(r, choose(r, cands) if rule or len(cands) > 1 else cands[0]) for r in chosen]
        cost = [0.0 if rule else sum(r["cv_s"][m] for m in cands if len(cands) > 1) for r in chosen]
        if g:
            print(f"{label:36s} within {WITHIN} on {sum(x <= WITHIN for x in g):2d}/{len(g):2d} "
                  f"({np.mean([x <= WITHIN for x in g]):4.0%}); median gap {np.median(g):.3f}; "
                  f"cv {np.median(cost):5.1f} s median, {max(cost):4.0f} s max")
    blends = {"average of the five": lambda r: USUAL,
              "average of the cv best three": lambda r: sorted(USUAL, key=lambda m: -_cv(r, m))[:3]}
    for label, members in blends.items():
        g = [gap_of(r, blend_score(r, members(r))) for r in rows if "pred" in r and r["cv"]]
        if g:
            print(f"{label:36s} within {WITHIN} on {sum(x <= WITHIN for x in g):2d}/{len(g):2d} "
                  f"({np.mean([x <= WITHIN for x in g]):4.0%}); median gap {np.median(g):.3f}")


def _cv(row: dict, model: str) -> float:
    v = row["cv"].get(model, float("nan"))
    return v if v == v else -np.inf


def blend_score(row: dict, members: list[str]) -> float:
    """The held-out score of the members' predictions averaged (class probabilities, or values)."""
    y = np.asarray(row["y_test"])
    mean = np.mean([np.asarray(row["pred"][m]) for m in members], axis=0)
    return score_of(row["task"], y if row["task"] == "regression" else y.astype(int), mean)


def gap_of(row: dict, value: float) -> float:
    best = max(row["held_out"].values())
    return 0.0 if best <= row["base"] else (best - value) / (best - row["base"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-rows", type=int, default=3000)
    ap.add_argument("--cv-max-rows", type=int, default=3000, help="larger files: held-out scores only")
    ap.add_argument("--files", default="")
    ap.add_argument("--cache", type=Path, default=HERE / "cache")
    ap.add_argument("--out", type=Path, default=HERE / "runs" / "policy.jsonl")
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(HERE))
    from manifest import BY_NAME

    index = json.loads((args.cache / "index.json").read_text())
    names = [n for n in (args.files.split(",") if args.files else sorted(index)) if n
             and BY_NAME[n].target and (args.files or index[n].get("rows", 0) * 0.8 <= args.max_rows)]
    rows = []
    for row in cached_rows(names, args.out, args.fresh,
                           lambda n: measure(n, BY_NAME[n], args.cache, args.max_rows, args.cv_max_rows)):
        rows.append(row)
        name = row["file"]
        held = " ".join(f"{m[:4]} {row['held_out'][m]:6.3f}" for m in USUAL)
        gaps = " ".join(f"{gap(row, choose(row, c)):5.3f}" for c in POLICIES.values())
        print(f"{name:20s} {row['task']:10s} {row['rows']:5d}  {held}  cv→{choose(row, USUAL):8s} gaps {gaps}",
              flush=True)
    summary(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
