"""Ctrl-C that lands inside a C library's Python callback (XGBoost's data iterator is a ctypes callback) cannot
propagate from there; Python would print its traceback on stderr. During a fit mlcli notes the signal and acts
on it after the fit, so the traceback must not reach the user."""
import ctypes
import os
import signal
import sys

from mlcli.experiments.cv.execution import signals_seen

CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int)


def _interrupted() -> int:
    os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, inside the callback
    return 0


def test_ctrl_c_inside_a_ctypes_callback_is_noted_without_a_traceback(capfd, monkeypatch):
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)  # Python's own, not pytest's
    call = CALLBACK(_interrupted)
    seen: list[int] = []
    with signals_seen(seen):
        call()
    assert seen == [signal.SIGINT]
    assert "Traceback" not in capfd.readouterr().err


def test_outside_a_fit_python_would_print_it(capfd, monkeypatch):
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    call = CALLBACK(lambda: (_ for _ in ()).throw(KeyboardInterrupt()))
    call()
    err = capfd.readouterr().err
    assert "Traceback" in err and "KeyboardInterrupt" in err
