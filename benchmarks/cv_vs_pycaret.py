"""mlcli cv against PyCaret's compare_models: the same five models on the same data and machine.

Data: the 30,000 NYC flights of benchmarks/cv_overhead.py (target `late`). Models: logistic regression,
random forest, XGBoost, LightGBM, CatBoost at each tool's own defaults; 5 stratified shuffled folds over all
rows; 2 parallel jobs on both sides. Each side runs as a fresh process (imports included) and the wall time,
the best model and its cross-validated ROC AUC are printed.

PyCaret pins old libraries (scikit-learn < 1.5, pandas < 2.2, numpy < 2), so it lives in its own virtual
environment, never the project's:

    python3 -m venv /tmp/pycaret-venv
    /tmp/pycaret-venv/bin/pip install pycaret xgboost-cpu catboost torch==2.13.0
    python benchmarks/cv_vs_pycaret.py [--pycaret-python /tmp/pycaret-venv/bin/python] [--rows 30000]

PyCaret's setup() also needs a hold-out set: 1,000 rows are set aside as its `test_data` (compare_models
does not use them), and both tools cross-validate on the same remaining rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from cv_overhead import flights, run_mlcli

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pycaret-python", default=os.environ.get("PYCARET_PYTHON", "/tmp/pycaret-venv/bin/python"))
    ap.add_argument("--rows", type=int, default=30_000)
    args = ap.parse_args()
    df, target, what = flights(args.rows)
    print(f"data: {what}, 1,000 set aside as PyCaret's hold-out; models: {', '.join(MLCLI_MODELS)}; "
          "5 folds; 2 jobs")
    with tempfile.TemporaryDirectory() as tmp:
        path, holdout = Path(tmp) / "data.csv", Path(tmp) / "holdout.csv"
        df.iloc[1000:].to_csv(path, index=False)
        df.iloc[:1000].to_csv(holdout, index=False)
        script = Path(tmp) / "pycaret_run.py"
        script.write_text(PYCARET)

        wall, doc = run_mlcli(path, target, MLCLI_MODELS)
        print(f"\nmlcli cv: {wall:.1f} s wall (fresh process)")
        for r in doc["leaderboard"]:
            vs = r["vs_best"] or {}
            print(f"  {r['name']:10} ROC AUC {r['score']:.4f} ± {r['score_std']:.4f}  fit {r['fit_s']:.1f} s/fold"
                  + ("  best" if r["best"] else f"  p={vs.get('p')}"))

        t = time.perf_counter()
        res = subprocess.run([args.pycaret_python, str(script), str(path), str(holdout), target,
                              ",".join(PYCARET_MODELS)],
                             capture_output=True, text=True, cwd=tmp)  # PyCaret writes logs.log, catboost_info/
        pwall = time.perf_counter() - t
        if res.returncode != 0:
            print(f"\nPyCaret failed (exit {res.returncode}):\n{res.stderr[-3000:]}")
            return
        pc = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"\nPyCaret compare_models: {pwall:.1f} s wall (fresh process; setup {pc['setup_s']:.1f} s, "
              f"compare_models {pc['compare_s']:.1f} s)")
        for r in pc["leaderboard"]:
            print(f"  {r['name']:34} ROC AUC {r['auc']:.4f}  accuracy {r['accuracy']:.4f}  "
                  f"{r['seconds_per_fold']:.1f} s/fold")
        best_ours = doc["leaderboard"][0]
        best_pc = pc["leaderboard"][0]
        print(f"\nbest: mlcli {best_ours['name']} {best_ours['score']:.4f} in {wall:.1f} s; "
              f"PyCaret {best_pc['name']} {best_pc['auc']:.4f} in {pwall:.1f} s; wall ratio PyCaret/mlcli "
              f"{pwall / wall:.2f}")


if __name__ == "__main__":
    main()
