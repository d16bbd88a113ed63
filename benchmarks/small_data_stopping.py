"""Early stopping on small data (fewer than 1,000 training rows): the rounds chosen on 3 inner folds of the
training rows, then refitted on all of them, against the libraries' usual fixed counts (300 rounds for XGBoost
and LightGBM, 500 for CatBoost: what `--param early_stopping=false` fits). Real files only: the sample data
below 1,000 rows and the first 800 rows of Titanic (Kaggle's size). Held-out main metric, log loss and fit
seconds per file and model; the two settings alternate on each file.

    python benchmarks/small_data_stopping.py [--models xgboost,lightgbm,catboost]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
MLCLI = [sys.executable, "-m", "mlcli"]


def files(tmp: Path) -> dict[str, Path]:
    titanic = tmp / "titanic800.csv"
    pd.read_csv(SAMPLE / "titanic.csv").iloc[:800].to_csv(titanic, index=False)
    return {"titanic800": titanic, "penguins": SAMPLE / "penguins.csv", "iris": SAMPLE / "iris.csv",
            "wine": SAMPLE / "wine.csv", "houseprices": SAMPLE / "houseprices.csv"}


def run(path: Path, model: str, off: bool, out: Path) -> dict:
    cmd = [*MLCLI, "train", str(path), "--model", model, "--out", str(out), "-q", "-f", "json", "--no-leak-check"]
    if off:
        cmd += ["--param", "early_stopping=false"]
    doc = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    m = doc["metrics"]
    main = {"binary": "roc_auc", "multiclass": "f1_macro", "regression": "r2"}[doc["task"]]
    return {"main": main, "score": m.get(main), "log_loss": m.get("log_loss"), "fit": doc["timings"]["fit"],
            "rounds": (doc.get("early_stopping") or {}).get("iterations")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="xgboost,lightgbm,catboost")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in files(Path(tmp)).items():
            for model in args.models.split(","):
                usual = run(path, model, True, Path(tmp) / "a")
                inner = run(path, model, False, Path(tmp) / "b")
                rows.append({"file": name, "model": model, "metric": usual["main"],
                             "usual": usual["score"], "inner folds": inner["score"],
                             "log loss usual": usual["log_loss"], "log loss inner": inner["log_loss"],
                             "rounds usual": usual["rounds"], "rounds inner": inner["rounds"],
                             "fit s usual": usual["fit"], "fit s inner": inner["fit"]})
                print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    better = (table["inner folds"] >= table["usual"] - 1e-9).mean()
    print(f"inner folds at least as good on the main metric: {better:.0%} of {len(table)} (file, model) pairs; "
          f"median fit time ratio {(table['fit s inner'] / table['fit s usual']).median():.2f}")


if __name__ == "__main__":
    main()
