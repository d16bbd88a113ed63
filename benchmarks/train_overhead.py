"""mlcli train against the same pipeline written by hand with the libraries alone (the floor).

Both run as fresh processes (imports included), same split, same preprocessing, same model, same bundle
write; the median of several runs is compared. Datasets: sample_data/titanic.csv (xgboost) and a
GENERATED 50,000-row mixed-type file (lightgbm).

    python benchmarks/train_overhead.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from _common import SAMPLE, mixed_frame, mlcli_cmd, timed_run

FLOOR = r'''
import sys, time, joblib, numpy as np, pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from sklearn.base import BaseEstimator, ClassifierMixin, clone


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


path, target, model, out = sys.argv[1:5]
df = pd.read_csv(path, engine="pyarrow")
y = df.pop(target).to_numpy()
df = df.drop(columns=[c for c in ("PassengerId",) if c in df.columns])
text = [c for c in ("Name",) if c in df.columns]
cat = [c for c in df.columns if df[c].dtype == object or str(df[c].dtype) == "str"]
cat = [c for c in cat if c not in text]
num = [c for c in df.columns if c not in cat and c not in text]
parts = [("num", SimpleImputer(strategy="median", add_indicator=True), num)]
onehot = dict(handle_unknown="infrequent_if_exist", min_frequency=0.01, max_categories=50)
parts += [(c, Pipeline([("i", SimpleImputer(strategy="constant", fill_value="__missing__")),
                        ("o", OneHotEncoder(**onehot))]), [c]) for c in cat]
parts += [(c, TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=20000), c) for c in text]
pre = ColumnTransformer(parts, sparse_threshold=0.3)
if model == "xgboost":
    from xgboost import XGBClassifier
    est = Stopped(XGBClassifier(n_estimators=2000, learning_rate=0.1, max_depth=6, tree_method="hist", n_jobs=2,
                                random_state=42))
else:
    from lightgbm import LGBMClassifier
    est = Stopped(LGBMClassifier(n_estimators=2000, learning_rate=0.1, verbose=-1, n_jobs=2, random_state=42))
pipe = Pipeline([("pre", pre), ("model", est)])
Xtr, Xte, ytr, yte = train_test_split(df, y, test_size=0.2, random_state=42, stratify=y)
pipe.fit(Xtr, ytr)
p = pipe.predict_proba(Xte)[:, 1]
ptr = pipe.predict_proba(Xtr)[:, 1]
print(accuracy_score(yte, p >= 0.5), roc_auc_score(yte, p), roc_auc_score(ytr, ptr))
joblib.dump(pipe, out, compress=3)
'''


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big = tmp / "mixed50k.csv"
        mixed_frame(50_000).to_csv(big, index=False)
        (tmp / "floor.py").write_text(FLOOR)
        cases = [("titanic (1,309 rows)", SAMPLE / "titanic.csv", "Survived", "xgboost"),
                 ("generated mixed (50,000 rows)", big, "target", "lightgbm")]
        print(f"{'dataset':32} {'model':9} {'floor s':>8} {'mlcli s':>8} {'ratio':>6}")
        for label, path, target, model in cases:
            floor_cmd = [sys.executable, str(tmp / "floor.py"), str(path), target, model, str(tmp / "floor.joblib")]
            ours_cmd = mlcli_cmd("train", str(path), "--target", target, "--model", model, "--threads", "2",
                                 "--out", str(tmp / "bundle"), "--format", "json", "--quiet")
            floors, ours = [], []
            for _ in range(args.repeats):  # interleaved, so a change in the machine's load hits both alike
                floors += timed_run(floor_cmd, repeats=1)[1]
                ours += timed_run(ours_cmd, repeats=1)[1]
            floor, mine = statistics.median(floors), statistics.median(ours)
            print(f"{label:32} {model:9} {floor:8.2f} {mine:8.2f} {mine / floor:6.2f}")


if __name__ == "__main__":
    main()
