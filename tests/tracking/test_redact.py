"""Credentials in a tracking URI (user:password@, ?token=) are never shown on stderr nor stored in the history."""

from __future__ import annotations

import json

import pytest

from mlcli.errors import redact, redact_all


@pytest.mark.parametrize("text, expected", [
    ("http://user:s3cret@host:5000", "http://user:***@host:5000"),
    ("https://bob:p:a/ss@mlflow.example.com/api", "https://bob:***@mlflow.example.com/api"),
    ("mlcli train d.csv --mlflow http://u:s3cret@h:5000 --seed 1",
     "mlcli train d.csv --mlflow http://u:***@h:5000 --seed 1"),
    ("http://host:5000/?token=abc&x=1", "http://host:5000/?token=***&x=1"),
    ("http://h/p?access_token=zz#frag", "http://h/p?access_token=***#frag"),
    ("databricks://h?password=pw;api_key=k", "databricks://h?password=***;api_key=***"),
    ("at http://u:a@h: GET http://u:a@h/api failed", "at http://u:***@h: GET http://u:***@h/api failed"),
    ("http://host:5000/path", "http://host:5000/path"),  # nothing to hide
    ("https://user@host", "https://user@host"),
    ("--param key=3 --grid C=1,2", "--param key=3 --grid C=1,2"),
    ("file:./mlruns", "file:./mlruns"),
])
def test_redact(text, expected):
    assert redact(text) == expected


def test_redact_all_walks_a_recipe():
    recipe = {"data": "d.csv", "seed": 42, "params": {"uri": "http://a:b@h"}, "models": ["http://h?token=t"]}
    assert redact_all(recipe) == {"data": "d.csv", "seed": 42, "params": {"uri": "http://a:***@h"},
                                  "models": ["http://h?token=***"]}


@pytest.fixture
def fake_mlflow(monkeypatch):
    """mlflow 'installed', and a server that refuses the run with an error naming the URI (as the client does)."""
    import mlcli.tracking.mlflow as ML

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(ML, "available", lambda: True)
    monkeypatch.setattr(ML, "unreachable", lambda uri, timeout=ML.PROBE_S: None)  # it answers, then refuses the run
    logged = []

    def log_run(uri, command, recipe, metrics, bundle, history_id=None, model=None):
        logged.append(ML.flat_params(recipe))
        raise ConnectionError(f"API request to {uri}/api/2.0/mlflow/runs/create failed: connection refused")

    monkeypatch.setattr(ML, "log_run", log_run)
    return logged


def test_mlflow_option_with_a_password(mlcli, small_binary, fake_mlflow):
    r = mlcli("train", small_binary, "--model", "logreg", "--mlflow", "http://alice:s3cret@127.0.0.1:5000",
              "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert "s3cret" not in r.stderr
    assert "mlcli: warning: not logged to MLflow at http://alice:***@127.0.0.1:5000: API request to " \
           "http://alice:***@127.0.0.1:5000/api" in r.stderr
    shown = mlcli("runs", "show", "1", "--format", "json").stdout
    assert "s3cret" not in shown
    [run] = json.loads(shown) if shown.lstrip().startswith("[") else [json.loads(shown)]
    assert "--mlflow http://alice:***@127.0.0.1:5000" in run["command_line"]
    assert "s3cret" not in json.dumps(fake_mlflow)


def test_tracking_uri_from_the_environment_with_a_token(mlcli, small_binary, fake_mlflow, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.example.com/?token=tok123")
    r = mlcli("train", small_binary, "--model", "logreg", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert "tok123" not in r.stderr and "?token=***" in r.stderr


def test_an_error_naming_a_url_with_a_password(mlcli):
    r = mlcli("train", "http://bob:s3cret@example.com/d.csv")
    assert r.exit_code == 2
    assert r.stderr.strip() == "mlcli: error: file not found: http://bob:***@example.com/d.csv"
    shown = mlcli("runs", "list", "--format", "json").stdout
    assert "s3cret" not in shown and "http://bob:***@example.com/d.csv" in shown


def test_records_written_before_redaction_are_shown_redacted(mlcli):
    from mlcli.tracking.history import History

    with History() as h:
        run_id = h.start("train", "mlcli train d.csv --mlflow http://u:s3cret@h:1", recipe={"data": "d.csv"})
        h.conn.execute("UPDATE runs SET command_line = ? WHERE id = ?",
                       ("mlcli train d.csv --mlflow http://u:s3cret@h:1", run_id))  # as an older mlcli stored it
        h.conn.commit()
    shown = mlcli("runs", "show", str(run_id), "--format", "json").stdout
    assert "s3cret" not in shown and "http://u:***@h:1" in shown
