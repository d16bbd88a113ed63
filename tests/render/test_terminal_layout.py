"""What a person at an 80-column terminal sees: notices wrapped between words (a long path whole), one line per
notice when stderr is piped, `runs list` with model and file names whole, `explain --method all` within the
width, and missing shares that read <1% / >99%. Commands run in-process with COLUMNS=80 (Rich sizes a console
that is not a terminal by COLUMNS); one runs in a real pseudo-terminal to see stderr as a terminal shows it."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios

import pandas as pd
import pytest
from rich.console import Console

from mlcli.render.output import Notifier, wrap_notice
from mlcli.render.runs import fold_path, render_runs
from mlcli.render.tables import roles_table

from conftest import SAMPLE

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG_PATH = "/data/" + "a-rather-long-folder-name/" * 4 + "history.db"  # 110 characters, no space
MESSAGE = ("dropped column 'PassengerId': identifier (a distinct integer per row); keep it with --categorical or "
           f"--numeric; the history is in {LONG_PATH} and stays there")


def notices(terminal: bool, width: int = 80) -> str:
    notify = Notifier()
    buffer = io.StringIO()
    notify._console = Console(file=buffer, force_terminal=terminal, width=width, color_system=None)
    notify(MESSAGE)
    notify.warn("2 of the 546 held-out rows of the folds (0.4%) are exact copies of rows in their training folds, "
                "so the scores are optimistic: remove duplicate rows from the data")
    return buffer.getvalue()


def test_notices_wrap_between_words_on_an_80_column_terminal():
    out = notices(terminal=True)
    lines = out.splitlines()
    assert lines[0].startswith("mlcli: dropped column") and len(lines) >= 5
    assert all(len(line) <= 80 for line in lines if LONG_PATH not in line)
    assert f"  {LONG_PATH}" in lines  # the path alone on its line, indented, not cut at the 80th character
    assert not any(line.strip() != LONG_PATH and LONG_PATH[:20] in line for line in lines)
    # every word is whole: joining the lines gives back the messages word for word
    words = out.split()
    assert " ".join(words[:len(MESSAGE.split()) + 1]) == f"mlcli: {MESSAGE}"
    warning = next(i for i, line in enumerate(lines) if line.startswith("mlcli: warning: 2 of the 546"))
    assert all(line.startswith("  ") for line in lines[warning + 1:])  # continuation lines are indented
    assert "mlcli:" not in " ".join(lines[1:warning])


def test_piped_notices_stay_one_line_each():
    out = notices(terminal=False)
    assert out.splitlines() == [f"mlcli: {MESSAGE}",
                                "mlcli: warning: 2 of the 546 held-out rows of the folds (0.4%) are exact copies of "
                                "rows in their training folds, so the scores are optimistic: remove duplicate rows "
                                "from the data"]


def test_wrap_notice_keeps_line_breaks_and_never_splits_a_word():
    text = wrap_notice("first paragraph " + "word " * 30 + "\nsecond " + "x" * 90, 40)
    lines = text.splitlines()
    assert all(len(line) <= 40 for line in lines[:-1]) and lines[-1] == "  " + "x" * 90
    assert "second" in lines[-2] and set(text.replace("\n", " ").split()) == {"first", "paragraph", "word",
                                                                              "second", "x" * 90}


def _on_a_terminal(argv: list[str], env: dict[str, str], columns: int = 80, code: int = 0) -> str:
    """stderr of a process whose stderr is a pseudo-terminal of ``columns`` columns, as a person would see it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == code
    return ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal sizes as on Linux")
def test_a_command_notice_on_a_real_80_column_terminal_and_piped(tmp_path):
    home = tmp_path / ("an-mlcli-home-folder-with-a-long-name-" * 3)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")}
    env["MLCLI_HOME"] = str(home)
    argv = [sys.executable, "-m", "mlcli", "runs", "list", "--format", "table"]
    shown = _on_a_terminal(argv, env)  # the terminal's own width (80), no COLUMNS
    path = str(home / "history.db")
    assert shown.splitlines() == ["mlcli: no runs recorded yet in", f"  {path}"]
    piped = subprocess.run(argv, env={**env, "COLUMNS": "80"}, capture_output=True, text=True, timeout=60)
    assert piped.stderr == f"mlcli: no runs recorded yet in {path}\n"  # a log keeps one line per notice


# --------------------------------------------------------------------------------------------- runs list

def _run(i: int, model: str, data: str, status: str = "finished", metric: str = "roc_auc", value: float = 0.8612):
    return {"id": i, "command": "cv", "status": status, "started": "2026-12-01T06:00:00+00:00", "model": model,
            "data": data, "metrics": {metric: value}, "main_metric": metric, "duration": 12.5}


def _table(runs: list[dict], width: int = 80) -> list[str]:
    buffer = io.StringIO()
    render_runs(Console(file=buffer, width=width), runs)
    return buffer.getvalue().splitlines()


def test_runs_list_keeps_names_whole_at_80_columns():
    runs = [_run(3, "easy-ensemble", "/home/me/data/creditcard_fraud_2026.csv"),
            _run(2, "balanced-rf", "/home/me/data/houseprices.csv", metric="rmse", value=15711.9075),
            _run(1, "nb-bernoulli", "-", status="failed")]
    lines = _table(runs)
    assert all(len(line) <= 80 for line in lines)
    rows = {line.split()[0]: line for line in lines if line.split() and line.split()[0].isdigit()}
    assert "easy-ensemble" in rows["3"] and "creditcard_fraud_2026.csv" in rows["3"]
    assert "balanced-rf" in rows["2"] and "houseprices.csv" in rows["2"] and "rmse 15,712" in rows["2"]
    assert "nb-bernoulli" in rows["1"] and "stdin" in rows["1"] and "failed" in rows["1"]  # status kept: one failed
    assert len(rows) == 3 and len(lines) == 3 + 3  # one line per run, below the title, header and rule
    assert "time" not in lines[1] and "12.5 s" not in "".join(lines)  # the duration made room
    assert "time" in _table(runs, 140)[1]


def test_runs_list_wraps_a_grid_label_between_words_and_shortens_a_long_file_name_last():
    runs = [_run(2, "lightgbm n_estimators=300 learning_rate=0.05 balance=smote",
                 "/data/" + "very_long_file_name_" * 3 + ".csv"),
            _run(1, "logreg", "iris.csv")]
    lines = _table(runs)
    assert all(len(line) <= 80 for line in lines)
    cells = " ".join(lines)
    for word in ("lightgbm", "n_estimators=300", "learning_rate=0.05", "balance=smote"):
        assert word in cells  # wrapped between the words, none cut
    assert "status" not in lines[1] and "started" not in lines[1]  # every run finished: status and time go first
    assert re.search(r"very_long_file_\w*…", cells)  # the file name, too long, ends in an ellipsis


def test_runs_list_through_the_command_at_80_columns(mlcli, small_binary, monkeypatch):
    long_name = small_binary.with_name("passenger_survival_2026_cleaned.csv")
    shutil.copy(small_binary, long_name)
    for model in ("easy-ensemble", "nb-bernoulli"):
        r = mlcli("train", long_name, "--model", model, "--out", model, "--format", "json", "--quiet")
        assert r.exit_code == 0, r.stderr
    monkeypatch.setenv("COLUMNS", "80")
    r = mlcli("runs", "list", "--format", "table")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), r.stdout
    rows = [line for line in lines if line.split() and line.split()[0].isdigit()]
    assert len(rows) == 2 and "nb-bernoulli" in rows[0] and "easy-ensemble" in rows[1]
    assert all("passenger_survival_2026_cleaned.csv" in row and re.search(r"roc_auc 0\.\d{4}\b", row)
               for row in rows)
    r = mlcli("runs", "compare", "1", "2", "--format", "table")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), r.stdout
    assert any(line.split()[:1] == ["libraries.scikit-learn"] for line in lines)  # setting names whole


def test_a_path_breaks_after_a_slash():
    path = "/home/someone/projects/churn/data/customers_2026.csv"
    assert fold_path(path, 25).splitlines() == ["/home/someone/projects/", "churn/data/", "customers_2026.csv"]
    assert fold_path(path, 80) == path
    assert fold_path("a sentence / with spaces", 10) == "a sentence / with spaces"  # only paths


def test_models_at_80_columns_keep_every_word_of_the_descriptions(mlcli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    models = json.loads(mlcli("models", "--format", "json").stdout)
    out = mlcli("models", "--format", "table").stdout
    assert all(len(line) <= 80 for line in out.splitlines())
    words = set(out.split())
    assert all(set(m["name"].split()) | set(m["summary"].split()) <= words for m in models), out


# --------------------------------------------------------------------------------------------- explain, shares

def test_explain_all_fits_80_columns(mlcli, monkeypatch):
    r = mlcli("train", SAMPLE / "titanic.csv", "--model", "logreg", "--out", "m", "--format", "json", "--quiet")
    assert r.exit_code == 0, r.stderr
    monkeypatch.setenv("COLUMNS", "80")
    r = mlcli("explain", "m", SAMPLE / "titanic.csv", "--method", "all", "--sample", "60", "--format", "table")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), r.stdout
    header = next(line for line in lines if line.split()[:2] == ["#", "column"])
    assert header.split()[2:] == ["native", "permutation", "shap", "direction"]
    rows = {line.split()[1]: line for line in lines if re.match(r"\s*\d+\s+\w", line)}
    assert set(rows) == {"Name", "Pclass", "Sex", "Age", "SibSp", "Parch"}
    assert "highest for female" in rows["Sex"] and "higher → lowers" in rows["Pclass"]  # directions whole
    assert all(len(re.findall(r"(?:<1|\d{1,3})%", row)) == 3 for row in rows.values())  # a share per method
    assert "█" in rows["Sex"] and "…" not in r.stdout  # bars kept, shortened to fit, nothing cut


def test_missing_shares_never_read_0_or_100_percent(mlcli, monkeypatch):
    frame = pd.read_csv(SAMPLE / "houseprices.csv")
    frame.loc[3, "lotsize"] = None  # 1 of 546 rows: 0.2%
    frame["note"] = None
    frame.loc[7, "note"] = "corner plot"  # 545 of 546 missing: 99.8%
    frame.to_csv("houses.csv", index=False)
    monkeypatch.setenv("COLUMNS", "80")
    r = mlcli("train", "houses.csv", "--model", "ridge", "--target", "price", "--format", "table", "--quiet")
    assert r.exit_code == 0, r.stderr
    columns = r.stdout[r.stdout.index("Columns"):r.stdout.index("Held-out metrics")].splitlines()
    row = {line.split()[0]: line.split() for line in columns if line.startswith("  ") and line.split()}
    assert row["lotsize"][:4] == ["lotsize", "numeric", "283", "<1%"]  # not 0%
    assert row["note"][:4] == ["note", "constant", "1", ">99%"]  # not 100%
    assert len(row["bedrooms"]) == 3  # no missing value: the cell stays empty
    table = io.StringIO()
    Console(file=table, width=80).print(roles_table([
        {"name": "note", "role": "text", "n_unique": 1, "missing": 545 / 546, "reason": ""},
        {"name": "x", "role": "numeric", "n_unique": 9, "missing": 1.0, "reason": ""}]))
    assert ">99%" in table.getvalue() and "100%" in table.getvalue()  # all missing is 100%


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal sizes as on Linux")
def test_an_error_on_a_real_terminal_wraps_and_piped_stays_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")}
    argv = [sys.executable, "-m", "mlcli", "runs", "list", "--command", "cross-validation-with-repeats"]
    shown = _on_a_terminal(argv, env, code=2).splitlines()
    assert len(shown) == 2 and shown[0].startswith("mlcli: error: --command must be one of")
    assert all(len(line) <= 80 for line in shown) and shown[1].startswith("  ")
    assert "'cross-validation-with-repeats'" in " ".join(shown)  # the value whole
    piped = subprocess.run(argv, env={**env, "COLUMNS": "80"}, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 2 and piped.stderr == " ".join(line.strip() for line in shown) + "\n"
