"""--mlflow with a tracking server that cannot be reached: one warning at once (credentials redacted) and the
run goes on without MLflow, instead of waiting minutes on MLflow's retries (254 s for a closed port).

The server is local: a closed port (refused at once), a socket that listens but never answers (the timeout), and
a small HTTP server that answers. MLflow itself is not needed: "installed" is faked and its logging replaced by a
recorder, so these tests run whether or not the extra is installed; the last one uses the real client if it is.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from mlcli.tracking.mlflow import PROBE_S, unreachable

LIMIT_S = PROBE_S + 1.0  # what the check may cost at most, with room for a busy machine


@pytest.fixture(autouse=True)
def _no_ambient_mlflow(monkeypatch):
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def logged(monkeypatch):
    """mlflow 'installed'; the runs it would log are recorded instead."""
    import mlcli.tracking.mlflow as ML

    monkeypatch.setattr(ML, "available", lambda: True)
    calls = []

    def log_run(uri, command, recipe, metrics, bundle, history_id=None, model=None):
        calls.append(uri)
        return "run-1"

    monkeypatch.setattr(ML, "log_run", log_run)
    return calls


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the block ends: a connection is refused


@pytest.fixture
def silent_port():
    """A socket that accepts connections (the kernel's backlog) and never answers a byte."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


@pytest.fixture
def answering_port():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server name
            self.send_response(200 if self.path.endswith("/health") else 404)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("mlcli: warning:")]


def test_a_closed_port_warns_at_once_and_the_run_goes_on(mlcli, small_binary, logged, closed_port):
    t0 = time.perf_counter()
    r = mlcli("train", small_binary, "--model", "logreg", "--mlflow", f"http://alice:s3cret@127.0.0.1:{closed_port}",
              "--format", "json")
    wall = time.perf_counter() - t0
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["metrics"]["roc_auc"] > 0.5  # trained and saved all the same
    assert _warnings(r.stderr) == [f"mlcli: warning: not logged to MLflow: the tracking server at "
                                   f"http://alice:***@127.0.0.1:{closed_port} cannot be reached (Connection refused); "
                                   "the run goes on without it"]
    assert r.stderr.index("not logged to MLflow") < r.stderr.index("fitting logreg")  # said before the run
    assert "s3cret" not in r.stderr and logged == []
    assert wall < 30  # the train itself takes ~1 s; MLflow's retries took 254 s


def test_a_server_that_never_answers_is_given_up_after_the_probe_timeout(mlcli, small_binary, logged, silent_port,
                                                                         monkeypatch):
    uri = f"https://bob:pw@127.0.0.1:{silent_port}/prefix?token=t0k"
    t0 = time.perf_counter()
    assert unreachable(uri) == f"no answer within {PROBE_S:g} s"
    assert PROBE_S - 0.1 <= time.perf_counter() - t0 < LIMIT_S
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)  # the same from the environment
    r = mlcli("train", small_binary, "--model", "logreg", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert _warnings(r.stderr) == [f"mlcli: warning: not logged to MLflow: the tracking server at "
                                   f"https://bob:***@127.0.0.1:{silent_port}/prefix?token=*** cannot be reached (no "
                                   f"answer within {PROBE_S:g} s); the run goes on without it"]
    assert "pw@" not in r.stderr and "t0k" not in r.stderr and logged == []


def test_a_server_that_answers_is_logged_to(mlcli, small_binary, logged, answering_port):
    uri = f"http://alice:s3cret@127.0.0.1:{answering_port}"
    assert unreachable(uri) is None and unreachable(f"{uri}/not-mlflow") is None  # a 404 is a server too
    r = mlcli("train", small_binary, "--model", "logreg", "--mlflow", uri, "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert _warnings(r.stderr) == [] and logged == [uri]


def test_a_server_gone_by_the_end_of_the_run_is_not_waited_for(mlcli, small_binary, logged, monkeypatch):
    import mlcli.tracking.mlflow as ML

    answers = iter([None, "Connection refused"])  # up before the run, down after it
    monkeypatch.setattr(ML, "unreachable", lambda uri, timeout=PROBE_S: next(answers))
    r = mlcli("train", small_binary, "--model", "logreg", "--mlflow", "http://127.0.0.1:5000", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert _warnings(r.stderr) == ["mlcli: warning: not logged to MLflow: the tracking server at "
                                   "http://127.0.0.1:5000 cannot be reached (Connection refused)"]
    assert logged == []


@pytest.mark.parametrize("uri", ["file:./mlruns", "mlruns", "sqlite:///mlflow.db", "databricks", "databricks://prof"])
def test_stores_that_are_not_servers_are_not_probed(uri):
    assert unreachable(uri) is None


def test_the_real_client_is_not_left_to_retry(mlcli, small_binary, closed_port):
    pytest.importorskip("mlflow")
    t0 = time.perf_counter()
    r = mlcli("train", small_binary, "--model", "logreg", "--mlflow", f"http://127.0.0.1:{closed_port}",
              "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["metrics"]
    assert len(_warnings(r.stderr)) == 1 and "cannot be reached (Connection refused)" in r.stderr
    assert time.perf_counter() - t0 < 30
