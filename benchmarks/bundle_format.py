"""Saving and loading a model bundle in mlcli's safe format (skops for the pipeline, the boosters' own formats)
against the pickle it replaced (joblib, compress=3), on a LightGBM pipeline fitted on 1,000,000 rows and a
random forest (100 trees) fitted on 50,000 rows. Both GENERATED mixed-type data (12 numeric, 6 categorical).
Save and load alternate, --repeats times each; medians are printed, with the bytes on disk.

    python benchmarks/bundle_format.py [--repeats 3] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import mixed_frame


def _fit(model: str, rows: int, params: dict):
    from mlcli.data.roles import infer_schema
    from mlcli.data.schema import prepare_frame
    from mlcli.models.build import ModelConfig, build_pipeline

    df = mixed_frame(rows)
    schema = infer_schema(df, "target", "binary")
    X = prepare_frame(df, schema)
    pipe = build_pipeline(schema, ModelConfig(model, params, seed=0, n_threads=2)).fit(X, df["target"].to_numpy())
    meta = {"model": model, "task": "binary", "target": "target", "classes": [0, 1], "schema": schema.to_dict()}
    return pipe, meta, X.head(1000)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def _compare(name: str, pipe, meta, X, repeats: int, tmp: Path) -> None:
    import joblib
    import numpy as np

    from mlcli.models.bundle import load_bundle, save_bundle

    times = {"safe save": [], "safe load": [], "joblib save": [], "joblib load": []}
    for i in range(repeats):
        folder, pickle = tmp / f"b{i}", tmp / f"p{i}.joblib"
        t = time.perf_counter()
        save_bundle(folder, pipe, meta)
        times["safe save"].append(time.perf_counter() - t)
        t = time.perf_counter()
        joblib.dump(pipe, pickle, compress=3)
        times["joblib save"].append(time.perf_counter() - t)
        t = time.perf_counter()
        safe = load_bundle(folder).pipeline
        times["safe load"].append(time.perf_counter() - t)
        t = time.perf_counter()
        old = joblib.load(pickle)
        times["joblib load"].append(time.perf_counter() - t)
        assert np.array_equal(safe.predict_proba(X), old.predict_proba(X))
        sizes = _size(folder), _size(pickle)
        if i < repeats - 1:
            shutil.rmtree(folder)
            pickle.unlink()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{name}: save {med['safe save']:.2f} s vs joblib {med['joblib save']:.2f} s "
          f"({med['safe save'] / med['joblib save']:.2f}x); load {med['safe load']:.2f} s vs joblib "
          f"{med['joblib load']:.2f} s ({med['safe load'] / med['joblib load']:.2f}x); on disk "
          f"{sizes[0] / 2**20:.1f} MiB vs {sizes[1] / 2**20:.1f} MiB; identical predictions")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pipe, meta, X = _fit("lightgbm", opts.rows, {})
        _compare(f"LightGBM, {opts.rows:,} rows", pipe, meta, X, opts.repeats, Path(tmp) / "lgbm")
        pipe, meta, X = _fit("rf", 50_000, {"n_estimators": 100})
        _compare("random forest (100 trees), 50,000 rows", pipe, meta, X, opts.repeats, Path(tmp) / "rf")


if __name__ == "__main__":
    sys.exit(main())
