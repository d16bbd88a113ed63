"""mlcli train on many classes (issues 14, 25): LightGBM or XGBoost on a 20,000-row, 26-class file against the same
work written by hand with pandas and the library (the floor).

Data: a GENERATED file shaped like UCI letter-recognition: the class (A-Z) in the first column `lettr`, 16
small-integer features (0-15) whose distributions depend on the class; or, with --data, a real file whose class
is in `lettr` and whose other columns are numeric (the gauntlet's `letters`: benchmarks/gauntlet/cache/letters.csv,
UCI Letter Recognition, after `python benchmarks/gauntlet/fill_cache.py`). Both sides run as fresh processes
(imports included), alternately, --repeats times each; the medians are compared. The floor does what mlcli's
report needs and nothing more: stratified 20 % hold-out, LightGBM early-stopped as mlcli does (2,000 rounds at
most, 50 of patience, a 10 % slice of the training rows), held-out and training rows each scored once, the
model written to disk. mlcli's fit / predict / load come from its JSON `timings`; `other` is the rest of its
total (leak screen, training-row metrics, baseline, bundle).

    python benchmarks/many_classes.py [--repeats 3] [--rows 20000] [--threads 2] [--model lightgbm|xgboost]
                                      [--data benchmarks/gauntlet/cache/letters.csv] [--rounds N]

``--rounds N``: both sides fit exactly N rounds, without early stopping (mlcli: ``--param n_estimators=N --param
early_stopping=false``; the floor: no validation slice), so that the ratio compares the same work — early stopping
ends the two sides at different rounds, as their validation slices differ.
"""

from __future__ import annotations

import argparse
import json
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import mlcli_cmd

FLOOR = r'''
import json, sys, time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
path, out, threads, library, fixed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
df = pd.read_csv(path, engine="pyarrow")
y = pd.factorize(df.pop("lettr"), sort=True)[0]
X = df.to_numpy(dtype=np.float32)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)
a, v = train_test_split(np.arange(len(ytr)), test_size=0.1, stratify=ytr, random_state=42)
if fixed:  # the same rounds as mlcli: every training row, no validation slice
    a, v = np.arange(len(ytr)), None
if library == "lightgbm":
    import lightgbm
    m = lightgbm.LGBMClassifier(n_estimators=fixed or 2000, learning_rate=0.1, verbose=-1, n_jobs=threads,
                                random_state=42)
    t1 = time.perf_counter()
    if fixed:
        m.fit(Xtr, ytr)
    else:
        m.fit(Xtr[a], ytr[a], eval_set=[(Xtr[v], ytr[v])], callbacks=[lightgbm.early_stopping(50, verbose=False)])
    rounds = m.best_iteration_ or m.n_estimators
else:
    import xgboost
    m = xgboost.XGBClassifier(n_estimators=fixed or 2000, learning_rate=0.1, max_depth=6, tree_method="hist",
                              n_jobs=threads, random_state=42, early_stopping_rounds=None if fixed else 50,
                              verbosity=0)
    t1 = time.perf_counter()
    m.fit(Xtr[a], ytr[a], **({} if fixed else {"eval_set": [(Xtr[v], ytr[v])]}), verbose=False)
    rounds = fixed or m.best_iteration + 1
t2 = time.perf_counter()
p = m.predict_proba(Xte)
t3 = time.perf_counter()
ptr = m.predict_proba(Xtr)
t4 = time.perf_counter()
(m.booster_ if library == "lightgbm" else m.get_booster()).save_model(out)
print(json.dumps({"fit": t2 - t1, "predict": t3 - t2, "train_rows": t4 - t3, "rounds": rounds,
                  "accuracy": accuracy_score(yte, p.argmax(1)), "f1_macro": f1_score(yte, p.argmax(1), average="macro"),
                  "train_accuracy": accuracy_score(ytr, ptr.argmax(1)), "total": time.perf_counter() - t0}))
'''


def letters_frame(n: int, seed: int = 0):
    """GENERATED letter-recognition-shaped data: `lettr` (A-Z) first, 16 integers 0-15 depending on it."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 26, size=n)
    centres = rng.uniform(2, 13, size=(26, 16))
    X = np.clip(np.rint(centres[y] + rng.normal(0, 2.6, size=(n, 16))), 0, 15).astype(int)
    names = ["x-box", "y-box", "width", "high", "onpix", "x-bar", "y-bar", "x2bar", "y2bar", "xybar", "x2ybr",
             "xy2br", "x-ege", "xegvy", "y-ege", "yegvx"]
    frame = pd.DataFrame(X, columns=names)
    frame.insert(0, "lettr", np.array(list(string.ascii_uppercase))[y])
    return frame


def _run(cmd: list[str]) -> tuple[float, dict]:
    """(wall seconds of the fresh process, the JSON it printed)."""
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, json.loads(out.stdout)


def _median(docs: list[dict], key: str) -> float:
    return statistics.median(d[key] for d in docs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", choices=("lightgbm", "xgboost"), default="lightgbm")
    ap.add_argument("--data", help="a real file with the class in `lettr` (default: a generated one)")
    ap.add_argument("--rounds", type=int, default=0, help="both sides fit exactly this many rounds (default: "
                                                            "early stopping on each side)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.data:
            path = Path(args.data).resolve()
            what = f"{path.name} (real)"
        else:
            path = tmp / "letters.csv"
            letters_frame(args.rows).to_csv(path, index=False)
            what = f"GENERATED {args.rows:,} rows"
        (tmp / "floor.py").write_text(FLOOR)
        floor_cmd = [sys.executable, str(tmp / "floor.py"), str(path), str(tmp / "floor.txt"), str(args.threads),
                     args.model, str(args.rounds)]
        fixed = ["--param", f"n_estimators={args.rounds}", "--param", "early_stopping=false"] if args.rounds else []
        ours_cmd = mlcli_cmd("train", str(path), "--target", "lettr", "--model", args.model, *fixed,
                             "--threads", str(args.threads),
                             "--out", str(tmp / "bundle"), "--format", "json", "--quiet")
        floor_walls, ours_walls, floors, ours = [], [], [], []
        for _ in range(args.repeats):  # alternated, so a change in the machine's load hits both alike
            wall, doc = _run(floor_cmd)
            floor_walls.append(wall)
            floors.append(doc)
            wall, doc = _run(ours_cmd)
            ours_walls.append(wall)
            ours.append({**doc["timings"], "accuracy": doc["metrics"]["accuracy"],
                         "rounds": (doc.get("early_stopping") or {}).get("iterations") or args.rounds})
        floor_wall, our_wall = statistics.median(floor_walls), statistics.median(ours_walls)
        fit, predict, load, total = (_median(ours, k) for k in ("fit", "predict", "load", "total"))
        print(f"data: {what}, 26 classes, 16 integer columns; {args.model}, {args.threads} threads; "
              f"median of {args.repeats} alternated fresh-process runs")
        print(f"{'':8} {'wall s':>7} {'fit s':>6} {'predict s':>9} {'train rows s':>12} {'other s':>7} {'rounds':>6} "
              f"{'accuracy':>8}")
        print(f"{'floor':8} {floor_wall:7.2f} {_median(floors, 'fit'):6.2f} {_median(floors, 'predict'):9.2f} "
              f"{_median(floors, 'train_rows'):12.2f} {'':>7} {floors[-1]['rounds']:6d} {floors[-1]['accuracy']:8.4f}")
        print(f"{'mlcli':8} {our_wall:7.2f} {fit:6.2f} {predict:9.2f} {'(in other)':>12} "
              f"{total - fit - predict - load:7.2f} {ours[-1]['rounds'] or 0:6d} {ours[-1]['accuracy']:8.4f}")
        print(f"ratio mlcli / floor (wall): {our_wall / floor_wall:.2f}")
        print("runs (s): floor " + ", ".join(f"{t:.2f}" for t in floor_walls) + "; mlcli "
              + ", ".join(f"{t:.2f}" for t in ours_walls))


if __name__ == "__main__":
    main()
