"""mlcli tune's search on real data (scikit-learn's bundled breast cancer data, 569 rows; Titanic)."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from mlcli.data.dataset import DataOptions
from mlcli.errors import ConfigError
from mlcli.experiments.cv.request import CVRequest
from mlcli.experiments.cv.run import run_cv
from mlcli.experiments.tune.request import TuneRequest
from mlcli.experiments.tune.run import run_tune

from conftest import SAMPLE


@pytest.fixture(scope="module")
def cancer_csv(tmp_path_factory):
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    path = tmp_path_factory.mktemp("tune") / "cancer.csv"
    frame.to_csv(path, index=False)
    return path


def _tune(path, **kw):
    kw = {"folds": 3, "leak_check": False, "threads": 1, **kw}
    return run_tune(TuneRequest(DataOptions(str(path), target=kw.pop("target", "target")), **kw))


def test_first_trial_is_cvs_score_and_the_best_never_below_it():
    titanic = SAMPLE / "titanic.csv"
    doc = _tune(titanic, model="lightgbm", trials=6, target="Survived").to_dict()
    cv = run_cv(CVRequest(DataOptions(str(titanic), target="Survived"), models=["lightgbm"], folds=3, threads=1,
                          leak_check=False)).to_dict()
    assert doc["trials"][0]["default"] and doc["trials"][0]["params"] == {}
    assert doc["default_score"] == cv["leaderboard"][0]["score"]  # the same folds and pipeline as cv
    assert doc["best"]["score"] >= doc["default_score"]
    assert doc["gain"] == pytest.approx(doc["best"]["score"] - doc["default_score"], abs=1e-6)
    assert 0.80 < doc["best"]["score"] < 0.95  # Titanic ROC AUC
    assert doc["baseline_score"] == 0.5
    assert {"learning_rate", "num_leaves"} <= set(doc["space"])


def test_same_seed_and_trials_give_the_same_trials(cancer_csv):
    a = _tune(cancer_csv, model="knn", trials=6, seed=3).to_dict()
    b = _tune(cancer_csv, model="knn", trials=6, seed=3).to_dict()
    c = _tune(cancer_csv, model="knn", trials=6, seed=4).to_dict()
    strip = [[(t["params"], t["score"], t["state"]) for t in d["trials"]] for d in (a, b, c)]
    assert strip[0] == strip[1]
    assert a["best"] == b["best"]
    assert strip[0] != strip[2]  # the seed drives the sampler (the folds too)


def test_hopeless_trials_are_pruned_after_a_fold(cancer_csv):
    """Logistic regression with C down to 1e-8 predicts the majority class (accuracy ~0.63 against ~0.97):
    such trials stop after their first fold."""
    result = _tune(cancer_csv, model="logreg", trials=16, metric="accuracy", space={"C": ("float", 1e-8, 1e2, "log")},
                   startup_trials=3)
    doc = result.to_dict()
    pruned = [t for t in doc["trials"] if t["state"] == "pruned"]
    assert pruned and all(t["folds"] < 3 for t in pruned)
    assert all(t["params"]["C"] < 1e-2 for t in pruned)
    assert doc["best"]["score"] > 0.95
    assert doc["counts"]["pruned"] == len(pruned)


def test_time_limit_is_kept(cancer_csv):
    t0 = time.perf_counter()
    result = _tune(cancer_csv, model="rf", time_limit=2.5)
    took = time.perf_counter() - t0
    assert took < 2.5 + 1.5
    assert result.timed_out
    assert any(r.state == "complete" for r in result.rows)  # the defaults finished within the budget


def test_save_best_refits_the_best_parameters(cancer_csv, tmp_path):
    from mlcli.models.bundle import load_bundle

    result = _tune(cancer_csv, model="knn", trials=6, seed=3, save_best=str(tmp_path / "best"))
    bundle = load_bundle(result.saved)
    pipeline = bundle.pipeline
    assert not result.best.default  # k=5 is beaten on these folds
    fitted = pipeline.steps[-1][1].get_params()
    assert {k: fitted[k] for k in result.best.params} == result.best.params
    assert bundle.meta["cv"]["score"] == result.best.mean
    frame = pd.read_csv(cancer_csv).drop(columns="target")
    assert len(pipeline.predict(frame.head(5))) == 5


def test_bad_requests_fail_before_reading_data(tmp_path):
    missing = tmp_path / "nothing.csv"  # never read: each request fails first
    for kw, message in (({"model": "baseline"}, "no search space"), ({"model": "nope"}, "unknown model"),
                        ({"model": "rf", "trials": 0}, "--trials must be at least 1"),
                        ({"model": "rf", "time_limit": -1.0}, "--time-limit must be a positive")):
        with pytest.raises(ConfigError, match=message):
            run_tune(TuneRequest(DataOptions(str(missing)), **kw))
