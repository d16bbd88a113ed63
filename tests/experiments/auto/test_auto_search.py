"""run_auto on small real data (scikit-learn's bundled breast cancer and diabetes sets, written to CSV): the
promise of the time limit, candidates skipped rather than overrun, reproducible with --trials when the limit does
not bind, tuned trials joining the leaderboard, Ctrl-C keeping the best so far, --refit bundles."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from sklearn import datasets

from mlcli.data.dataset import DataOptions
from mlcli.experiments.auto.request import AutoRequest
from mlcli.experiments.auto.run import run_auto
from mlcli.models.bundle import load_bundle


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "cancer.csv"
    datasets.load_breast_cancer(as_frame=True).frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "diabetes.csv"
    datasets.load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    return path


def _req(path, **kw) -> AutoRequest:
    base = dict(time_limit=60.0, preset="fast", folds=3, leak_check=False, jobs=1)
    return AutoRequest(DataOptions(str(path), target="target"), **{**base, **kw})


def _board(doc):
    return [(r["name"], r["score"], r["weight"]) for r in doc["leaderboard"]]


def test_reproducible_with_trials_when_the_limit_does_not_bind(cancer):
    """Three candidates and 3 trials of tuning, twice with the same seed: the same leaderboard and ensemble."""
    req = dict(preset="best", limit_candidates=2, trials=3)
    first, second = run_auto(_req(cancer, **req)), run_auto(_req(cancer, **req))
    assert not first["budget"]["binding"] and not first["budget"]["skipped"]
    assert _board(first) == _board(second) and first["ensemble"] == second["ensemble"] | {
        "seconds": first["ensemble"]["seconds"]}
    tuned = [r for r in first["leaderboard"] if r["tier"] == "tuned"]
    assert tuned and all("~t" in r["name"] and r["folds"] == 3 for r in tuned)
    assert first["tuning"][0]["trials"] == 4  # trial 0 repeats the candidate, then the 3 asked for
    assert first["best_single"]["score"] > 0.98  # ROC AUC on breast cancer


def test_candidates_that_would_overrun_are_skipped_and_the_limit_holds(cancer):
    """A 4-second budget for the whole portfolio: the cheap defaults run, the rest is skipped, not started."""
    t0 = time.perf_counter()
    doc = run_auto(_req(cancer, time_limit=4.0))
    wall = time.perf_counter() - t0
    budget = doc["budget"]
    assert wall <= 4.0 + 2.0 and budget["used_s"] <= 4.0 + 1.0
    assert budget["binding"] and budget["skipped"] and budget["tried"] + len(budget["skipped"]) <= budget["candidates"]
    assert all(s["expected_s"] > s["left_s"] for s in budget["skipped"])
    assert doc["ensemble"] is not None and doc["ensemble"]["oof_score"] > 0.97


class _CtrlC:
    """A progress callback that sends this process SIGINT (Ctrl-C) inside the fourth candidate."""

    def __init__(self):
        self.calls = 0

    def phase(self, name):
        pass

    def fits(self, done, total, last, **kw):
        self.calls += 1  # one call as each candidate starts and one after each fold fit
        if self.calls == 3 * (1 + 3) + 2:  # the baseline and two candidates done, one fold of the third
            os.kill(os.getpid(), signal.SIGINT)

    def trial(self, *args):
        pass


def test_ctrl_c_keeps_the_best_so_far_and_saves_it(cancer, tmp_path):
    doc = run_auto(_req(cancer, out=str(tmp_path / "model"), refit=False), progress=_CtrlC())  # --bag
    assert doc["interrupted"] and doc["saved"] == str(tmp_path / "model")
    finished = [r for r in doc["leaderboard"] if r["status"] == "ok" and r["model"] not in ("baseline", "ensemble")]
    assert finished and doc["ensemble"]["members"]
    assert len(doc["leaderboard"]) < 8  # the portfolio stopped at the interruption
    bundle = load_bundle(tmp_path / "model")
    assert bundle.meta["model"] == "ensemble" and bundle.meta["auto"]["final"] == "bagged"


def test_regression_refit_bundle_predicts_as_the_ensemble(diabetes, tmp_path):
    doc = run_auto(_req(diabetes, limit_candidates=3, refit=True, out=str(tmp_path / "model")))
    assert doc["task"] == "regression" and doc["metric"] == "rmse" and doc["ensemble"]["final"] == "refit"
    assert doc["ensemble"]["score"] < doc["baseline"]["score"] - 10  # RMSE: well below predicting the mean (~77)
    assert doc["ensemble"]["oof_score"] <= doc["best_single"]["oof_score"] + 1e-9
    bundle = load_bundle(tmp_path / "model")
    ensemble = bundle.pipeline.steps[-1][1]
    assert [len(f) for f in ensemble.members_] == [1] * len(ensemble.members_)  # refitted once on all rows
    X = datasets.load_diabetes(as_frame=True).data
    assert np.isfinite(bundle.pipeline.predict(X)).all()
