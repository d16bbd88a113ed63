"""cv's progress bar: the fits running now, M/N fits, and an ETA in expected seconds that moves between fits."""

from __future__ import annotations

import io
import re

from rich.console import Console

from mlcli.render.cv import FoldProgress, running_label


def _bar() -> tuple[FoldProgress, io.StringIO]:
    buf = io.StringIO()
    return FoldProgress(Console(file=buf, force_terminal=True, width=160)), buf


def test_the_label_names_the_fits_running_now():
    progress, buf = _bar()
    with progress:
        progress(12, 30, "xgboost f2", running=["catboost f3", "rf f4"], work=(40.0, 100.0), eta=95.0)
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())  # without the terminal's colour codes
    assert "catboost f3, rf f4" in out and "12/30 fits" in out and "models × folds" in out
    assert re.search(r"ETA 0:01:3\d", out), out  # 95 s, counted down from when it was given


def test_the_eta_counts_down_between_fits():
    from mlcli.render import cv

    progress, _ = _bar()
    with progress:
        progress(1, 4, "", running=["catboost f1"], work=(1.0, 10.0), eta=100.0)
        task = progress._progress.tasks[0]
        column = cv._eta_column()
        task.fields["eta_at"] -= 30  # as if 30 s passed since the runner's estimate
        assert column.render(task).plain == "0:01:10"
        task.fields["eta_at"] -= 300
        assert column.render(task).plain == "0:00:00"


def test_the_old_call_still_counts_fits():
    progress, buf = _bar()
    with progress:
        progress(0, 10, "")
        progress(4, 10, "logreg · fold 2")
    assert "4/10 fits" in buf.getvalue() and "logreg · fold 2" in buf.getvalue()


def test_long_labels_are_shortened():
    names = [f"model{i} f{i}" for i in range(20)]
    text = running_label(names, "", 30)
    assert len(text) <= 30 and text.endswith("…") and text.startswith("model0 f0, model1 f1")
    assert running_label([], "last f1", 30) == "last f1"


def test_nothing_is_drawn_off_a_terminal():
    quiet = io.StringIO()
    with FoldProgress(Console(file=quiet, force_terminal=False)) as progress:
        progress(1, 10, "x", running=["a f1"], work=(1.0, 5.0), eta=3.0)
    assert quiet.getvalue() == ""
