"""--mlflow URI / $MLFLOW_TRACKING_URI: params, metrics and the bundle logged to a local MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import error_line


@pytest.fixture(autouse=True)
def _no_ambient_mlflow(monkeypatch):
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    # MLflow 3 refuses its file store unless allowed; mlcli allows it for a file URI it is given (setdefault),
    # set here so that the test's own client reads the store and the process environment is restored after
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")


@pytest.fixture
def no_mlflow(monkeypatch):
    """As if the mlflow extra were not installed."""
    import mlcli.tracking.mlflow as ML

    monkeypatch.setattr(ML, "available", lambda: False)


def test_without_the_extra_mlflow_is_a_one_line_exit_2(mlcli, small_binary, no_mlflow):
    r = mlcli("train", small_binary, "--model", "logreg", "--mlflow", "file:./mlruns")
    assert error_line(r) == ("--mlflow needs the 'mlflow' package, which is not installed: "
                             "run pip install 'mlcli[mlflow]'")
    assert not Path("models").exists()  # refused before training


def test_tracking_uri_from_the_environment_without_the_extra_only_warns(mlcli, small_binary, no_mlflow, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "file:./mlruns")
    r = mlcli("train", small_binary, "--model", "logreg", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["metrics"]
    assert ("mlcli: warning: MLFLOW_TRACKING_URI is set but mlflow is not installed, so this run is not logged to "
            "MLflow: pip install 'mlcli[mlflow]'") in r.stderr


def _client(uri: str):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def test_train_logs_params_metrics_and_bundle(mlcli, small_binary, tmp_path, monkeypatch):
    uri = (tmp_path / "mlruns").as_uri()
    client = _client(uri)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")  # mlcli allows the file store itself for a file URI
    r = mlcli("train", small_binary, "--model", "logreg", "-p", "C=0.5", "--out", "m", "--mlflow", uri,
              "--format", "json", "--quiet")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    [run] = client.search_runs([client.get_experiment_by_name("mlcli").experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params["model"] == "logreg" and run.data.params["params.C"] == "0.5"
    assert run.data.params["seed"] == "42" and run.data.params["command"] == "train"
    assert run.data.metrics == pytest.approx({k: v for k, v in doc["metrics"].items() if v is not None})
    assert run.data.tags["mlcli.command"] == "train" and run.data.tags["mlcli.history_id"] == "1"
    files = {a.path for a in client.list_artifacts(run.info.run_id, "bundle")}
    assert {"bundle/mlcli.json", "bundle/pipeline.skops"} <= files
    r = mlcli("runs", "show", "1", "--format", "json")
    assert json.loads(r.stdout)["mlflow_run"] == run.info.run_id


def test_cv_logs_to_the_uri_from_the_environment(mlcli, small_binary, tmp_path, monkeypatch):
    uri = (tmp_path / "store").as_uri()
    client = _client(uri)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "churn")
    r = mlcli("cv", small_binary, "--models", "logreg,knn", "--folds", "3", "--format", "json", "--quiet")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    [run] = client.search_runs([client.get_experiment_by_name("churn").experiment_id])
    best = next(row for row in doc["leaderboard"] if row["best"])
    assert run.data.metrics["roc_auc"] == pytest.approx(best["mean"]["roc_auc"])
    assert run.data.params["models"] == "logreg,knn" and run.data.params["folds"] == "3"


def test_an_unreachable_server_only_warns(mlcli, small_binary, monkeypatch):
    pytest.importorskip("mlflow")  # MLflow's retries are never reached: the server is checked first (2 s at most)
    r = mlcli("train", small_binary, "--model", "logreg", "--mlflow", "http://127.0.0.1:9", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["metrics"]  # the model is trained and saved all the same
    warning = [ln for ln in r.stderr.splitlines() if "not logged to MLflow" in ln]
    assert warning == ["mlcli: warning: not logged to MLflow: the tracking server at http://127.0.0.1:9 cannot be "
                       "reached (Connection refused); the run goes on without it"]
