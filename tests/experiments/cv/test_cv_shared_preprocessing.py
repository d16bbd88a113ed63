"""cv fits the model-independent preprocessing once per fold and shares it: the results are exactly those of
refitting it for every model (every metric of every model, train scores, out-of-fold predictions)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlcli.data.dataset import DataOptions, load_dataset
from mlcli.experiments.cv import execution, runner
from mlcli.experiments.cv.request import CVRequest
from mlcli.experiments.cv.run import run_cv
from mlcli.models.build import ModelConfig

MODELS = ["xgboost", "lightgbm", "rf", "logreg", "svm"]
WORDS = ["late", "delivery", "great", "service", "broken", "box", "friendly", "staff", "refund", "slow", "fast",
         "cold", "food", "again", "never", "always", "price", "fair"]


@pytest.fixture
def mixed_csv(tmp_path):
    """Generated: 240 rows with numeric (missing values), categorical (missing values) and free-text columns."""
    rng = np.random.default_rng(3)
    n = 240
    amount = rng.gamma(2.0, 20.0, size=n)
    age = rng.normal(40, 12, size=n)
    city = rng.choice(["paris", "lyon", "nice", "lille", "metz"], size=n).astype(object)
    note = [" ".join(rng.choice(WORDS, size=rng.integers(4, 9))) for _ in range(n)]
    logit = 0.03 * (amount - 40) + (city == "nice") * 1.2 + np.array(["refund" in t for t in note]) * 1.5 - 0.4
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "churn", "stay")
    df = pd.DataFrame({"amount": amount, "age": age, "city": city, "note": note, "outcome": y})
    df.loc[::11, "age"] = np.nan
    df.loc[::13, "city"] = None
    path = tmp_path / "mixed.csv"
    df.to_csv(path, index=False)
    return path


def _request(path, **kw) -> CVRequest:
    data = DataOptions(str(path), target="outcome", text=["note"])
    return CVRequest(data, models=[",".join(MODELS)], folds=3, oof=True, train_scores=True, leak_check=False,
                     threads=1, **kw)


def _board(result) -> list[str]:
    """Every leaderboard row as JSON (NaN compares equal as text), without its timings."""
    rows = []
    for r in result.rows:
        d = {k: v for k, v in r.to_dict(result.metric).items() if k not in ("fit_s", "predict_s", "seconds")}
        rows.append(json.dumps(d, sort_keys=True, default=str))
    return rows


def _run(path, monkeypatch, share: bool, jobs: int = 1):
    monkeypatch.setenv(runner.SHARE_ENV, "1" if share else "0")
    return run_cv(_request(path, jobs=jobs))


def test_groups_are_the_models_with_equal_preprocessing(mixed_csv):
    ds = load_dataset(DataOptions(str(mixed_csv), target="outcome", text=["note"]))
    names = MODELS + ["catboost", "baseline"]
    configs = [ModelConfig(m, n_threads=1) for m in names]
    groups = [{names[i] for i in g} for g in runner.share_groups(ds.schema, configs)]
    assert sorted(groups, key=len) == [{"logreg", "svm"}, {"xgboost", "lightgbm", "rf", "baseline"}]


def test_shared_preprocessing_gives_exactly_the_unshared_results(mixed_csv, monkeypatch):
    calls = []
    real = execution.prep_fold

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(execution, "prep_fold", counting)
    shared = _run(mixed_csv, monkeypatch, share=True)
    assert len(calls) == 6  # 2 groups x 3 folds, instead of 6 models x 3 folds
    alone = _run(mixed_csv, monkeypatch, share=False)
    assert len(calls) == 6
    assert _board(shared) == _board(alone)
    assert all(r.status == "ok" and r.folds_done == 3 for r in shared.rows)
    assert set(shared.rows[0].mean) >= {"roc_auc", "accuracy", "pr_auc", "log_loss"}
    pd.testing.assert_frame_equal(shared.oof, alone.oof)
    assert len(shared.oof) == 240 * 6


def test_fit_seconds_include_a_share_of_the_preprocessing(mixed_csv, monkeypatch):
    result = _run(mixed_csv, monkeypatch, share=True)
    assert all(r.fit_s > 0 and r.predict_s > 0 for r in result.rows)


def test_too_large_preprocessed_folds_are_not_shared(mixed_csv, monkeypatch):
    calls = []
    real = execution.prep_fold

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(execution, "prep_fold", counting)
    monkeypatch.setattr(runner, "SHARE_BUDGET", 1000)  # bytes: every preprocessed fold is larger
    small = _run(mixed_csv, monkeypatch, share=True)
    assert len(calls) == 2  # the first fold of each group; then each model preprocesses its own folds
    assert _board(small) == _board(_run(mixed_csv, monkeypatch, share=False))


@pytest.mark.slow
def test_shared_preprocessing_in_worker_processes_gives_the_sequential_results(mixed_csv, monkeypatch):
    parallel = _run(mixed_csv, monkeypatch, share=True, jobs=2)
    assert parallel.jobs == 2
    alone = _run(mixed_csv, monkeypatch, share=False)
    assert _board(parallel) == _board(alone)
    pd.testing.assert_frame_equal(parallel.oof, alone.oof)
