"""Tree ensembles on sparse vs dense input: the measurements behind mlcli's dense rule (DenseIfSmall).

For each case a random forest (100 trees, one thread) is fitted on the same one-hot-encoded matrix given
sparse (CSR, as mlcli's preprocessing makes it) and dense float32, alternated; printed: fit seconds of each,
the ratio, the dense matrix's size (rows x width x 4 bytes) and whether the predictions are identical.

Cases: UCI Adult's first fold (benchmarks/data/adult.csv.gz, real) and GENERATED one-hot matrices of growing
width at a fixed density, to show where dense stops paying or stops fitting in memory.

    python benchmarks/dense_rule.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def adult_fold():
    import tempfile

    import pandas as pd
    from sklearn.model_selection import StratifiedKFold

    from mlcli.data.dataset import DataOptions, encode_classes, load_dataset
    from mlcli.models.build import ModelConfig, build_pipeline

    with tempfile.TemporaryDirectory() as tmp:  # mlcli reads plain CSV; the benchmark copy is gzipped
        path = Path(tmp) / "adult.csv"
        pd.read_csv(HERE / "data" / "adult.csv.gz").to_csv(path, index=False)
        ds = load_dataset(DataOptions(str(path)))
    y, _ = encode_classes(ds)
    tr, te = next(StratifiedKFold(5, shuffle=True, random_state=42).split(np.zeros(len(y)), y))
    pre = build_pipeline(ds.schema, ModelConfig("rf", n_threads=1)).steps[0][1]
    return pre.fit_transform(ds.X.iloc[tr]), y[tr], pre.transform(ds.X.iloc[te])


def generated(rows: int, levels: int, seed: int = 0):
    """GENERATED: 8 numeric columns + 6 categorical columns of ``levels`` levels each, one-hot encoded."""
    from scipy import sparse

    rng = np.random.default_rng(seed)
    num = rng.normal(size=(rows, 8))
    codes = rng.integers(0, levels, size=(rows, 6))
    onehot = sparse.hstack([sparse.csr_matrix((np.ones(rows), (np.arange(rows), codes[:, j])), shape=(rows, levels))
                            for j in range(6)])
    X = sparse.hstack([sparse.csr_matrix(num), onehot], format="csr")
    logit = num[:, 0] - num[:, 1] + (codes[:, 0] < levels // 3)
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return X[: rows * 4 // 5], y[: rows * 4 // 5], X[rows * 4 // 5:]


def fit_time(X, y, Xte) -> tuple[float, np.ndarray]:
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)
    t = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - t, model.predict_proba(Xte)[:, 1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    cases = [("UCI Adult fold (real)", adult_fold)]
    cases += [(f"GENERATED 20,000 rows, 6 x {k} levels", lambda k=k: generated(20_000, k)) for k in (10, 30, 100, 1000)]
    print(f"{'case':40} {'width':>6} {'dense MiB':>9} {'sparse s':>9} {'dense s':>8} {'ratio':>6}  same")
    for label, make in cases:
        X, y, Xte = make()
        Xd, Xted = X.astype(np.float32).toarray(), Xte.astype(np.float32).toarray()
        sparse_s, dense_s = [], []
        for i in range(args.rounds):  # alternated: the machine's load hits both alike
            order = ((X, Xte, sparse_s), (Xd, Xted, dense_s))
            for A, B, out in (order if i % 2 == 0 else order[::-1]):
                s, p = fit_time(A, y, B)
                out.append((s, p))
        same = np.array_equal(sparse_s[0][1], dense_s[0][1])
        s, d = statistics.median(t for t, _ in sparse_s), statistics.median(t for t, _ in dense_s)
        mib = X.shape[0] * X.shape[1] * 4 / 2**20
        print(f"{label:40} {X.shape[1]:6} {mib:9.1f} {s:9.2f} {d:8.2f} {s / d:6.2f}  {same}")


if __name__ == "__main__":
    main()
