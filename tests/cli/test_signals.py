"""SIGTERM is handled like Ctrl-C: whatever was being written is cleaned up, one line on stderr, exit code 143."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


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


def test_sigterm_while_the_bundle_is_written_leaves_nothing(mlcli, small_binary, tmp_path, monkeypatch,
                                                            sigterm_handled):
    real_replace = os.replace

    def terminated_first(src, dst, *args, **kwargs):  # SIGTERM just before the bundle is renamed into place
        if ".tmp-" in os.fspath(src):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises here
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", terminated_first)
    r = mlcli("train", small_binary, "--model", "logreg", "--out", "m1", "-q")
    assert r.exit_code == 143, r.stderr
    assert r.stderr == "mlcli: terminated\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".mlcli-home") == ["small_binary.csv"]


def test_main_turns_cvs_partial_exit_130_into_143_after_sigterm(monkeypatch):
    import mlcli.cli.app as A
    from mlcli.cli.state import state

    def cv_stopped_by_sigterm(**kwargs):  # what cv does: partial leaderboard, then exit 130
        state.terminated = True
        raise SystemExit(130)

    monkeypatch.setattr(A, "app", cv_stopped_by_sigterm)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as exc:
            A.main()
        assert exc.value.code == 143
        state.terminated = False
        monkeypatch.setattr(A, "app", lambda **kwargs: (_ for _ in ()).throw(SystemExit(130)))
        with pytest.raises(SystemExit) as exc:  # Ctrl-C stays 130
            A.main()
        assert exc.value.code == 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        state.terminated = False


@pytest.mark.slow
def test_sigterm_to_a_real_training_process(tmp_path):
    """`mlcli train` in its own process, still fitting when SIGTERM comes: exit 143, one line, nothing left."""
    rng = np.random.default_rng(0)
    n = 20_000
    frame = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"x{i}" for i in range(8)])
    frame["label"] = np.where(frame["x0"] + rng.normal(size=n) > 0, "yes", "no")  # generated
    work = tmp_path / "work"
    work.mkdir()
    frame.to_csv(work / "big.csv", index=False)
    env = {**os.environ, "MLCLI_HOME": str(tmp_path / "home"), "MLCLI_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "mlcli", "train", "big.csv", "--model", "rf", "--param",
                             "n_estimators=2000", "--out", "model", "-q"], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err == "mlcli: terminated\n" and out == ""
    assert sorted(p.name for p in work.iterdir()) == ["big.csv"]  # no bundle, no hidden .model.tmp-*
