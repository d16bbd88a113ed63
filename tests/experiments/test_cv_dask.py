"""mlcli cv --scheduler: the same fold fits on a Dask cluster give exactly the local results."""

from __future__ import annotations

import json

import pytest

distributed = pytest.importorskip("distributed")

# worker processes start and import mlcli, scikit-learn and LightGBM: ~13 s on 2 idle cores, ~50 s when shared
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    """A real cluster of two worker processes with one thread each, on this machine."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as c:
        yield c


def test_dask_cluster_results_equal_the_local_run_exactly(mlcli, small_binary, cluster):
    args = ["cv", small_binary, "--models", "logreg,tree,lightgbm", "--folds", "3", "--repeats", "2",
            "--format", "json", "-q"]
    remote = mlcli(*args, "--scheduler", cluster.scheduler_address)
    assert remote.exit_code == 0, remote.stderr
    local = mlcli(*args, "--jobs", "2")
    assert local.exit_code == 0, local.stderr
    a, b = json.loads(remote.stdout), json.loads(local.stdout)
    assert a["parallel"]["scheduler"] == cluster.scheduler_address and a["parallel"]["threads_per_model"] == 1
    assert b["parallel"] == {"jobs": 2, "threads_per_model": 1, "scheduler": None}
    keys = ("name", "rank", "mean", "std", "fold_scores", "vs_best")
    assert [{k: r[k] for k in keys} for r in a["leaderboard"]] == [{k: r[k] for k in keys} for r in b["leaderboard"]]
    assert all(r["status"] == "ok" and r["folds"] == 6 for r in a["leaderboard"])
    assert a["fits"] == {"total": 24, "done": 24}  # 3 models and the baseline, 6 splits


def test_dask_oof_predictions_equal_the_local_ones(mlcli, small_regression, cluster, tmp_path):
    import pandas as pd

    args = ["cv", small_regression, "--models", "logreg,tree", "--folds", "3", "--format", "json", "-q"]
    assert mlcli(*args, "--scheduler", cluster.scheduler_address, "--oof", tmp_path / "a.csv").exit_code == 0
    assert mlcli(*args, "--oof", tmp_path / "b.csv").exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
