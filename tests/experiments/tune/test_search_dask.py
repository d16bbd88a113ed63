"""tune and auto with --scheduler: the folds of each trial (and auto's portfolio) on a Dask cluster give the
local results exactly; the time limit holds; an unreachable scheduler is one line before the data is read."""

from __future__ import annotations

import json
import time

import pytest

from conftest import SAMPLE, assert_error

distributed = pytest.importorskip("distributed")

TITANIC = SAMPLE / "titanic.csv"
IRIS = SAMPLE / "iris.csv"


@pytest.fixture(scope="module")
def cluster():
    """A real cluster of two worker processes with one thread each, on this machine."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as c:
        yield c


def _trials(doc: dict) -> list[tuple]:
    return [(t["trial"], t["params"], t["state"], t["fold_scores"]) for t in doc["trials"]]


@pytest.mark.slow
def test_tune_on_a_cluster_gives_the_local_trials(mlcli, cluster):
    # logistic regression: k-NN's ties between equally distant neighbours can break differently between runs
    args = ["tune", TITANIC, "-m", "logreg", "--folds", "3", "--trials", "10", "--no-leak-check", "--format", "json",
            "-q"]
    remote = mlcli(*args, "--scheduler", cluster.scheduler_address)
    assert remote.exit_code == 0, remote.stderr
    local = mlcli(*args, "--threads", "1")
    a, b = json.loads(remote.stdout), json.loads(local.stdout)
    assert a["scheduler"] == cluster.scheduler_address and b["scheduler"] is None
    assert _trials(a) == _trials(b) and a["best"] == b["best"]
    assert {t["state"] for t in a["trials"]} >= {"complete", "pruned"}  # pruned on the cluster as locally


@pytest.mark.slow
def test_tune_time_limit_on_a_cluster(mlcli, cluster):
    """The defaults' trial (5,000 trees a fold) cannot finish in 4 s: its folds still running on the workers at
    the limit are cancelled, not waited for, and no trial finished is one line, exit 2."""
    t0 = time.perf_counter()
    res = mlcli("tune", TITANIC, "-m", "rf", "--param", "n_estimators=5000", "--folds", "3", "--time-limit", "4",
                "--no-leak-check", "--scheduler", cluster.scheduler_address, "--format", "json", "-q")
    took = time.perf_counter() - t0
    assert_error(res, "no trial finished within --time-limit 4 s: give a larger --time-limit (at least ~")
    assert took < 4 + 3


@pytest.mark.slow
def test_auto_on_a_cluster_gives_the_local_leaderboard(mlcli, cluster):
    args = ["auto", IRIS, "--candidates", "2", "--folds", "3", "--trials", "3", "--time-limit", "200",
            "--no-leak-check", "--format", "json", "-q"]
    remote = mlcli(*args, "--scheduler", cluster.scheduler_address)
    assert remote.exit_code == 0, remote.stderr
    local = mlcli(*args, "--jobs", "1", "--threads", "1")
    a, b = json.loads(remote.stdout), json.loads(local.stdout)
    assert not a["budget"]["binding"] and not b["budget"]["binding"]
    board = [[(r["name"], r["score"], r["fold_scores"], r["weight"]) for r in d["leaderboard"]] for d in (a, b)]
    assert board[0] == board[1] and a["tuning"] and a["scheduler"] == cluster.scheduler_address


@pytest.mark.parametrize("command", [["tune", TITANIC, "-m", "knn"], ["auto", TITANIC]])
def test_an_unreachable_scheduler_is_one_line_before_reading(mlcli, command):
    res = mlcli(*command, "--scheduler", "tcp://127.0.0.1:9")
    assert_error(res, "cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert "target" not in res.stderr  # the data was not read
