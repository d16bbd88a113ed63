"""mlcli explain on the sample Titanic data: the ranking each method gives, and what each costs.

XGBoost and logistic regression are trained on a stratified 80 % of sample_data/titanic.csv and explained on
the held-out 20 % (262 rows). For each method this prints the ranking (importance, ± spread) and two times:
the method itself inside one process (warm: libraries loaded, bundle loaded), and a cold `mlcli explain`
run in a fresh process (imports and bundle loading included, median of --repeats runs).

    python benchmarks/explain_titanic.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SAMPLE  # noqa: E402

MODELS = ("xgboost", "logreg")
METHODS = ("native", "permutation", "shap")


def mlcli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mlcli", *map(str, args)], capture_output=True, text=True,
                          check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="cold CLI runs per method (median reported)")
    args = ap.parse_args()

    import pandas as pd
    from sklearn.model_selection import train_test_split

    from mlcli.experiments.explain import ExplainRequest, explain

    tmp = Path(tempfile.mkdtemp(prefix="mlcli-explain-bench-"))
    df = pd.read_csv(SAMPLE / "titanic.csv")
    train, test = train_test_split(df, test_size=0.2, random_state=42, stratify=df["Survived"])
    train.to_csv(tmp / "train.csv", index=False)
    test.to_csv(tmp / "test.csv", index=False)
    print(f"Titanic: {len(train)} training rows, {len(test)} held-out rows explained "
          f"(columns used: Name (text), Pclass, Sex, Age, SibSp, Parch)\n")

    rows = []
    for model in MODELS:
        bundle = tmp / model
        mlcli("train", tmp / "train.csv", "--model", model, "--test", tmp / "test.csv", "--target", "Survived",
              "--out", bundle, "-q", "-f", "json")
        print(f"== {model} ==")
        for method in METHODS:
            req = ExplainRequest(str(bundle), str(tmp / "test.csv"), method=method, repeats=5)
            explain(req)  # warm-up: imports and numba/JIT-free paths loaded once
            t0 = time.perf_counter()
            result = explain(req)
            warm = time.perf_counter() - t0
            cold = []
            for _ in range(args.repeats):
                t1 = time.perf_counter()
                mlcli("explain", bundle, tmp / "test.csv", "--method", method, "-q", "-f", "json")
                cold.append(time.perf_counter() - t1)
            res = result.results[method]
            ranking = " > ".join(f.name for f in res.features)
            print(f"  {method:<11} warm {warm:6.2f}s · cold CLI {statistics.median(cold):6.2f}s · {ranking}")
            for f in res.features:
                spread = f" ± {f.spread:.4f}" if f.spread is not None else ""
                direction = f"  [{f.direction}]" if f.direction else ""
                print(f"      {f.name:<7} {f.importance:9.4f}{spread}  ({f.share:5.1%}){direction}")
            detail = res.details.get("explainer") or res.details.get("metric") or res.details.get("kind")
            print(f"      measure: {res.measure}; {detail}")
            rows.append((model, method, warm, statistics.median(cold), ranking))
        print()
    print("summary (model, method, warm s, cold CLI s, ranking)")
    for model, method, warm, cold, ranking in rows:
        print(f"  {model:<8} {method:<11} {warm:6.2f} {cold:6.2f}  {ranking}")


if __name__ == "__main__":
    main()
