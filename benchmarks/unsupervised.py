"""cluster, reduce and anomalies against the same work written by hand with scikit-learn (the floor).

On sample_data/default.csv (10,000 card holders; real): for each case, mlcli's library call (loading, roles,
preprocessing, the fits, the report, the rows; no CLI start-up) and the hand-written floor (pandas read,
StandardScaler + one-hot, the same estimator settings, the same k range with silhouette on the same sample
sizes) are timed alternately; printed: median seconds of each, the ratio (mlcli / floor) and the figure both
agree on.

    python benchmarks/unsupervised.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "sample_data" / "default.csv"


def _matrix():
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df = pd.read_csv(DATA)
    ct = ColumnTransformer([("num", StandardScaler(), ["balance", "income"]),
                            ("cat", OneHotEncoder(sparse_output=False), ["student"])])
    return ct.fit_transform(df), (df["default"] == "Yes").to_numpy()


def floor_kmeans() -> float:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    Z, _ = _matrix()
    best = (-1.0, 0)
    with threadpool_limits(1):
        for k in range(2, 11):
            labels = KMeans(k, n_init=10, random_state=42).fit_predict(Z)
            best = max(best, (silhouette_score(Z, labels, sample_size=2000, random_state=42), k))
    return best[1]


def floor_pca() -> float:
    from sklearn.decomposition import PCA

    Z, _ = _matrix()
    return float(PCA(2).fit(Z).explained_variance_ratio_.sum())


def floor_iforest() -> float:
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import average_precision_score
    from threadpoolctl import threadpool_limits

    Z, y = _matrix()
    with threadpool_limits(1):
        scores = -IsolationForest(n_estimators=200, contamination=0.05, random_state=42).fit(Z).score_samples(Z)
    return float(average_precision_score(y, scores))


def mlcli_kmeans() -> float:
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.unsupervised.cluster import ClusterRequest, run_cluster

    return run_cluster(ClusterRequest(DataOptions(str(DATA)), "kmeans", label="default")).doc["k"]


def mlcli_pca() -> float:
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.unsupervised.reduce import ReduceRequest, run_reduce

    return run_reduce(ReduceRequest(DataOptions(str(DATA)), "pca", label="default")).doc["explained"][-1]["cumulative"]


def mlcli_iforest() -> float:
    from mlcli.data.dataset import DataOptions
    from mlcli.experiments.unsupervised.anomalies import AnomalyRequest, run_anomalies

    return run_anomalies(AnomalyRequest(DataOptions(str(DATA)), "isolation-forest", label="default")
                         ).doc["label"]["pr_auc"]


CASES = {"cluster kmeans k=2..10": (mlcli_kmeans, floor_kmeans, "chosen k"),
         "reduce pca 2": (mlcli_pca, floor_pca, "variance explained"),
         "anomalies isolation-forest": (mlcli_iforest, floor_iforest, "PR AUC vs default")}


def _timed(fn) -> tuple[float, float]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for fn in (mlcli_kmeans, floor_kmeans):  # imports and first-call costs out of the timings
        fn()
    print(f"{'case':28} {'mlcli s':>8} {'floor s':>8} {'ratio':>6}  figure (mlcli / floor)")
    for name, (ours, floor, what) in CASES.items():
        times: dict[str, list[float]] = {"mlcli": [], "floor": []}
        values = {}
        for _ in range(args.rounds):
            for label, fn in (("mlcli", ours), ("floor", floor)):
                seconds, values[label] = _timed(fn)
                times[label].append(seconds)
        m, f = statistics.median(times["mlcli"]), statistics.median(times["floor"])
        print(f"{name:28} {m:8.2f} {f:8.2f} {m / f:6.2f}  {what}: {np.round(values['mlcli'], 4)} / "
              f"{np.round(values['floor'], 4)}")


if __name__ == "__main__":
    main()
