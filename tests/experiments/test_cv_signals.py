"""A real Ctrl-C (SIGINT to the whole foreground process group) during a parallel mlcli cv run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="process groups and SIGINT")]


def test_sigint_prints_partial_leaderboard_exits_130_and_leaves_no_workers(tmp_path):
    cmd = [sys.executable, "-m", "mlcli", "cv", str(ROOT / "sample_data" / "titanic.csv"), "--models",
           "logreg,xgboost", "--repeats", "20", "--jobs", "2", "--format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            start_new_session=True)
    time.sleep(12)
    assert proc.poll() is None, proc.stderr.read()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    t = time.perf_counter()
    out, err = proc.communicate(timeout=60)
    assert time.perf_counter() - t < 20
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["interrupted"] is True and doc["fits"]["total"] == 300  # 2 models and the baseline, 100 splits
    assert {r["model"] for r in doc["leaderboard"]} == {"logreg", "xgboost", "baseline"}
    assert all(r["status"] in ("interrupted", "ok") for r in doc["leaderboard"])
    assert "interrupted" in err and "Traceback" not in err
    for _ in range(20):  # worker processes and loky's resource trackers exit soon after
        states = subprocess.run(["ps", "-o", "stat=", "-g", str(proc.pid)], capture_output=True, text=True).stdout
        alive = [s for s in states.split() if not s.startswith("Z")]
        if not alive:
            break
        time.sleep(0.5)
    assert alive == []
