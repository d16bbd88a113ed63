"""An interrupt is exit 130 (SIGINT) or 143 (SIGTERM) and "interrupted" in the run history, whatever stage it
lands in (auto stopped before its first model finished exited 2, "no model finished ... give a larger
--time-limit", recorded as failed); and an interrupted command leaves no process behind (two of auto's
processes outlived it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLE

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

IRIS = SAMPLE / "iris.csv"
TITANIC = SAMPLE / "titanic.csv"
CODE = {"SIGINT": 130, "SIGTERM": 143}


@pytest.fixture
def sigterm_handled():
    """SIGTERM handled as mlcli's main() handles it, for an in-process run; restored afterwards."""
    from mlcli.cli.app import install_signal_handlers
    from mlcli.cli.state import state

    previous = signal.getsignal(signal.SIGTERM)
    install_signal_handlers()
    yield
    signal.signal(signal.SIGTERM, previous)
    state.terminated = False


def _signal_at(monkeypatch, module, name, signame, call=1):
    """``module.name`` sends this process ``signame`` on its ``call``-th call (before doing its work)."""
    real = getattr(module, name)
    calls = []

    def wrapped(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            os.kill(os.getpid(), getattr(signal, signame))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapped)


def _last_run(mlcli) -> dict:
    runs = json.loads(mlcli("runs", "list", "--format", "json").stdout)
    return (runs if isinstance(runs, list) else runs["runs"])[0]


AUTO = ["--time-limit", "60", "--preset", "fast", "--candidates", "2", "--jobs", "1", "--no-leak-check", "-q"]


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_auto_interrupted_before_its_first_model_finished(mlcli, monkeypatch, tmp_path, signame, sigterm_handled):
    from mlcli.experiments.cv import execution

    _signal_at(monkeypatch, execution, "run_fold", signame)  # the baseline's first fold
    res = mlcli("auto", IRIS, *AUTO, "--out", tmp_path / "model")
    assert res.exit_code == CODE[signame], res.stderr
    assert "mlcli: error" not in res.stderr
    doc = json.loads(res.stdout)  # what finished: nothing
    assert doc["interrupted"] is True and doc["ensemble"] is None and doc["saved"] is None
    assert not (tmp_path / "model").exists()
    run = _last_run(mlcli)
    assert run["command"] == "auto" and run["status"] == "interrupted"


def test_auto_interrupted_while_the_data_is_checked(mlcli, monkeypatch, sigterm_handled):
    from mlcli.experiments.auto import run as auto_run

    _signal_at(monkeypatch, auto_run, "cv_checks", "SIGTERM")
    res = mlcli("auto", IRIS, *AUTO)
    assert res.exit_code == 143 and res.stderr.endswith("mlcli: terminated\n"), res.stderr
    assert _last_run(mlcli)["status"] == "interrupted"


@pytest.mark.parametrize("call, stage", [(1, "the baseline"), (4, "the defaults' trial")])  # 3 folds
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_tune_interrupted_at_any_stage(mlcli, monkeypatch, signame, call, stage, sigterm_handled):
    from mlcli.experiments.cv import execution

    _signal_at(monkeypatch, execution, "run_fold", signame, call)
    res = mlcli("tune", IRIS, "-m", "knn", "--folds", "3", "--time-limit", "60", "--no-leak-check", "-q")
    assert res.exit_code == CODE[signame], (stage, res.stderr)
    assert "mlcli: error" not in res.stderr
    run = _last_run(mlcli)
    assert run["command"] == "tune" and run["status"] == "interrupted", stage


# --------------------------------------------------------------------------------------------- no process left

# A subreaper (Linux): every process of mlcli's that is still alive when mlcli ends is handed to it, so even one
# that outlives mlcli by a millisecond is seen (and reaped). It waits until mlcli runs two worker processes.
HARNESS = r"""
import ctypes, json, os, signal, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
signame, argv = sys.argv[1], sys.argv[2:]

def children(pid):
    out = []
    for d in os.listdir("/proc"):
        try:
            stat = open(f"/proc/{d}/stat").read()
            cmdline = open(f"/proc/{d}/cmdline").read()
        except OSError:
            continue
        if d.isdigit() and int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            out.append((int(d), cmdline))
    return out

proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t0 = time.time()
workers = 0
while time.time() - t0 < 60 and proc.poll() is None and workers < 2:
    workers = sum("loky" in cmdline for _, cmdline in children(proc.pid))
    time.sleep(0.05)
time.sleep(0.3)
proc.send_signal(getattr(signal, signame))
rc = proc.wait(60)
outlived = [cmdline.replace("\0", " ")[:100] for _, cmdline in children(os.getpid())]
deadline = time.time() + 10
while time.time() < deadline:  # and the ones that ended between the check above and now
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid:
        outlived.append(pid)
    else:
        time.sleep(0.01)
print(json.dumps({"rc": rc, "workers": workers, "outlived": outlived}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
                    reason="a Linux subreaper, and two cores for two worker processes")
@pytest.mark.parametrize("signame, argv", [
    ("SIGINT", ["auto", TITANIC, "--time-limit", "60", "--preset", "fast", "--jobs", "2", "--no-leak-check"]),
    ("SIGTERM", ["auto", TITANIC, "--time-limit", "60", "--preset", "fast", "--jobs", "2", "--no-leak-check"]),
    ("SIGTERM", ["cv", TITANIC, "--models", "logreg,rf", "--repeats", "3", "--jobs", "2", "--no-leak-check"]),
])
def test_an_interrupted_command_leaves_no_process_behind(mlcli, signame, argv):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "mlcli", *map(str, argv), "-q"]
    out = subprocess.run([sys.executable, "-c", HARNESS, signame, *command], capture_output=True, text=True,
                         env=env, timeout=120)
    report = json.loads(out.stdout)
    assert report["workers"] >= 2, report  # it was stopped with its worker processes running
    assert report["rc"] == CODE[signame], report
    assert report["outlived"] == [], report  # no worker, no resource tracker
    run = _last_run(mlcli)
    assert run["command"] == argv[0] and run["status"] == "interrupted"
