"""The run history: what is recorded, mlcli runs list|show|compare|rerun, and a history that stays intact."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import pytest
import typer

from conftest import error_line, modules_after


def home() -> Path:
    return Path(os.environ["MLCLI_HOME"])


def db() -> Path:
    return home() / "history.db"


def runs(mlcli, *args) -> list[dict]:
    r = mlcli("runs", "list", "--format", "json", *args)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def train(mlcli, data, *args) -> dict:
    r = mlcli("train", data, "--model", "logreg", "--format", "json", "--quiet", *args)
    assert r.exit_code == 0, r.stderr
    assert r.stderr == ""  # recording adds nothing to stderr
    return json.loads(r.stdout)


# --------------------------------------------------------------------------------------------- recording

def test_a_train_run_is_recorded(mlcli, small_binary):
    doc = train(mlcli, small_binary, "--seed", "7", "-p", "C=0.5", "--out", "m")
    [run] = runs(mlcli)
    assert run["id"] == 1 and run["command"] == "train" and run["status"] == "finished"
    assert run["command_line"] == (f"mlcli train {small_binary} --model logreg --param C=0.5 --out m --seed 7 "
                                   "--format json --quiet")
    assert run["metrics"] == doc["metrics"] and run["main_metric"] == "roc_auc"
    assert run["seed"] == 7 and run["model"] == "logreg" and run["task"] == "binary" and run["target"] == "label"
    assert run["data"] == str(small_binary) and run["data_fingerprint"].startswith("sha256:")
    assert run["bundle"] == str((Path.cwd() / "m").resolve())
    assert run["libraries"]["scikit-learn"] and run["libraries"]["mlcli"] and run["libraries"]["python"]
    assert run["recipe"]["params"] == {"C": 0.5} and run["recipe"]["data"] == str(small_binary)
    assert 0 < run["duration"] < 600 and run["started"] < run["finished"]
    assert run["error"] is None


def test_cv_and_evaluate_are_recorded(mlcli, small_binary):
    r = mlcli("cv", small_binary, "--models", "logreg,knn", "--folds", "3", "--format", "json", "--quiet")
    assert r.exit_code == 0, r.stderr
    cv = json.loads(r.stdout)
    train(mlcli, small_binary, "--out", "m")
    r = mlcli("evaluate", "m", small_binary, "--format", "json")
    assert r.exit_code == 0, r.stderr
    ev, tr, cvrun = runs(mlcli)
    assert [ev["command"], tr["command"], cvrun["command"]] == ["evaluate", "train", "cv"]
    assert cvrun["model"] == cv["best"] and cvrun["main_metric"] == "roc_auc"
    assert cvrun["metrics"] == next(row["mean"] for row in cv["leaderboard"] if row["best"])
    assert [row["name"] for row in cvrun["leaderboard"]] == [row["name"] for row in cv["leaderboard"]]
    assert ev["metrics"] == json.loads(r.stdout)["metrics"] and ev["bundle"] == tr["bundle"]
    assert ev["data_fingerprint"] == tr["data_fingerprint"] == cvrun["data_fingerprint"]


def test_a_failed_run_is_recorded_with_its_error(mlcli, small_binary):
    r = mlcli("train", small_binary, "--target", "nope")
    msg = error_line(r)  # still exactly one line on stderr
    [run] = runs(mlcli)
    assert run["status"] == "failed" and run["error"] == msg


def test_an_interrupted_run_is_recorded(mlcli, small_binary, monkeypatch):
    import mlcli.experiments.train as T

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(T, "train", interrupted)
    r = mlcli("train", small_binary)
    assert r.exit_code == 130 and r.stderr.strip() == "mlcli: interrupted"
    [run] = runs(mlcli)
    assert run["status"] == "interrupted"


def test_history_can_be_turned_off(mlcli, small_binary, monkeypatch):
    monkeypatch.setenv("MLCLI_HISTORY", "0")
    train(mlcli, small_binary)
    assert not db().exists()


def test_default_home_is_the_user_data_directory(monkeypatch, tmp_path):
    from mlcli.tracking.history import default_path

    monkeypatch.delenv("MLCLI_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert default_path() == tmp_path / "xdg" / "mlcli" / "history.db"
    monkeypatch.setenv("MLCLI_HOME", "~/elsewhere")
    assert default_path() == Path.home() / "elsewhere" / "history.db"


def test_help_and_runs_stay_light():
    """Recording adds no import to --help; `runs list` needs neither pandas nor sklearn."""
    assert not modules_after("train", "--help") & {"sqlite3", "yaml", "mlflow", "pandas"}
    assert not modules_after("runs", "list", "--format", "json") & {"pandas", "sklearn", "numpy", "yaml", "mlflow"}


# --------------------------------------------------------------------------------------------- runs commands

@pytest.fixture
def three_runs(mlcli, small_binary):
    train(mlcli, small_binary, "-p", "C=0.01", "--out", "a")
    train(mlcli, small_binary, "-p", "C=10", "--out", "b")
    mlcli("train", small_binary, "--target", "nope")
    return small_binary


def test_runs_list_table_json_csv(mlcli, three_runs):
    r = mlcli("runs", "list", "--format", "table")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert "id" in lines[1] and "status" in lines[1]
    assert [ln.split()[0] for ln in lines[3:6]] == ["3", "2", "1"]
    assert "failed" in lines[3] and "finished" in lines[4] and "roc_auc 0." in lines[4]
    r = mlcli("runs", "list")  # piped: CSV
    header, *rows = r.stdout.splitlines()
    assert header.startswith("id,started,command,status") and "roc_auc" in header and len(rows) == 3
    assert [r["id"] for r in runs(mlcli, "--limit", "2")] == [3, 2]
    assert [r["id"] for r in runs(mlcli, "--status", "failed")] == [3]
    assert [r["id"] for r in runs(mlcli, "--command", "cv")] == []


def test_runs_list_filters_by_a_command_that_registers_itself(mlcli, small_binary):
    """tune (like auto, cluster ...) records its runs without the train/cv/evaluate wrapper: --command finds them."""
    r = mlcli("tune", small_binary, "--model", "logreg", "--trials", "2", "--format", "json", "--quiet")
    assert r.exit_code == 0, r.stderr
    train(mlcli, small_binary)
    assert [run["command"] for run in runs(mlcli, "--command", "tune")] == ["tune"]


def test_runs_list_jq_filter(mlcli, three_runs):
    """`mlcli runs list --format json | jq '.[] | select(.metrics.roc_auc > 0.8)'` works."""
    docs = runs(mlcli)
    chosen = [d["id"] for d in docs if (d.get("metrics") or {}).get("roc_auc", 0) > 0.8]
    assert chosen and 3 not in chosen
    if shutil.which("jq"):
        out = subprocess.run(["jq", "-c", "[.[] | select(.metrics.roc_auc > 0.8) | .id]"],
                             input=json.dumps(docs), capture_output=True, text=True, check=True).stdout
        assert json.loads(out) == chosen


def test_runs_show(mlcli, three_runs):
    r = mlcli("runs", "show", "2", "--format", "json")
    run = json.loads(r.stdout)
    assert run["id"] == 2 and run["recipe"]["params"] == {"C": 10}
    r = mlcli("runs", "show", "2", "--format", "table")
    assert r.exit_code == 0
    assert "Run 2" in r.stdout and "ROC AUC" in r.stdout and "params: {C: 10}" in r.stdout
    assert "mlcli train" in r.stdout and "finished" in r.stdout
    r = mlcli("runs", "show", "3", "--format", "table")
    assert "failed" in r.stdout and "target column 'nope' not found" in r.stdout


def test_runs_compare(mlcli, three_runs):
    r = mlcli("runs", "compare", "1", "2", "--format", "json")
    doc = json.loads(r.stdout)
    assert [x["id"] for x in doc["runs"]] == [1, 2]
    first = doc["settings"][0]
    assert first["differs"] and {s["key"] for s in doc["settings"] if s["differs"]} == {"params.C", "out"}
    assert next(s for s in doc["settings"] if s["key"] == "params.C")["values"] == [0.01, 10]
    assert not next(s for s in doc["settings"] if s["key"] == "data_fingerprint")["differs"]
    auc = next(m for m in doc["metrics"] if m["metric"] == "roc_auc")
    assert auc["higher_is_better"] and len(auc["values"]) == 2
    assert auc["best"] == [1 + auc["values"].index(max(auc["values"]))]
    loss = next(m for m in doc["metrics"] if m["metric"] == "log_loss")
    assert not loss["higher_is_better"] and loss["best"] == [1 + loss["values"].index(min(loss["values"]))]
    r = mlcli("runs", "compare", "1", "2", "--format", "table")
    assert r.exit_code == 0 and "run 1" in r.stdout and "run 2" in r.stdout and "params.C" in r.stdout
    r = mlcli("runs", "compare", "1", "2", "--format", "csv")
    assert r.stdout.splitlines()[0] == "kind,key,run 1,run 2"


def test_runs_rerun_repeats_the_run(mlcli, small_binary):
    first = train(mlcli, small_binary, "-p", "C=0.3", "--seed", "5", "--out", "a")
    r = mlcli("runs", "rerun", "1", "--out", "b", "--format", "json", "--quiet")
    assert r.exit_code == 0, r.stderr
    again = json.loads(r.stdout)
    assert again["metrics"] == first["metrics"] and again["bundle"] == "b"
    latest = runs(mlcli)[0]
    assert latest["id"] == 2 and latest["rerun_of"] == 1 and latest["status"] == "finished"


def test_runs_rerun_of_a_cv_recipe_run(mlcli, small_binary, tmp_path):
    (tmp_path / "r.yaml").write_text(f"command: cv\ndata: {small_binary.name}\nmodels: logreg\nfolds: 3\n")
    r = mlcli("cv", "--recipe", "r.yaml", "--format", "json", "--quiet")
    assert r.exit_code == 0, r.stderr
    r2 = mlcli("runs", "rerun", "1", "--format", "json", "--quiet")
    assert r2.exit_code == 0, r2.stderr
    assert json.loads(r2.stdout)["leaderboard"][0]["mean"] == json.loads(r.stdout)["leaderboard"][0]["mean"]


def test_runs_errors(mlcli, three_runs):
    assert error_line(mlcli("runs", "show", "42")) == \
        "run 42 not found in the run history (ids go from 1 to 3); list them with: mlcli runs list"
    assert error_line(mlcli("runs", "compare", "1")) == \
        "runs compare needs two or more run ids, got 1: e.g. mlcli runs compare 41 42"
    assert error_line(mlcli("runs", "compare", "1", "9")).startswith("run 9 not found")
    assert error_line(mlcli("runs", "rerun", "9")).startswith("run 9 not found")
    assert error_line(mlcli("runs", "list", "--status", "finshed")) == (
        "--status must be one of running, finished, failed, interrupted, got 'finshed' (did you mean 'finished'?)")
    line = error_line(mlcli("runs", "list", "--command", "predict"))
    named, _, got = line.removeprefix("--command must be one of ").partition(", got ")
    assert {"train", "cv", "evaluate", "tune", "auto"} <= set(named.split(", ")) and got.startswith("'predict'")
    assert error_line(mlcli("runs", "show", "abc")) == "a run id is a whole number (see: mlcli runs list), got 'abc'"


def test_empty_history(mlcli):
    assert runs(mlcli) == []
    r = mlcli("runs", "list", "--format", "table")
    assert r.exit_code == 0 and r.stdout == "" and "no runs recorded yet" in r.stderr
    assert not db().exists()  # reading never creates it
    assert error_line(mlcli("runs", "show", "1")) == \
        "run 1 not found in the run history (no run is recorded yet); list them with: mlcli runs list"


# ------------------------------------------------------------------------------------ a history that stays intact

def newer_db(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, something_new TEXT)")
    conn.execute("INSERT INTO runs VALUES (1, 'from the future')")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    return path.read_bytes()


def test_a_history_from_a_newer_mlcli_is_refused_and_left_untouched(mlcli, small_binary):
    before = newer_db(db())
    msg = error_line(mlcli("runs", "list"))
    assert msg == (f"run history {db()} was written by a newer mlcli (history schema 99, this mlcli reads up to 1); "
                   "upgrade mlcli, or set MLCLI_HOME to use another history; the file was left untouched")
    r = mlcli("train", small_binary, "--model", "logreg", "--format", "json")
    assert r.exit_code == 0  # the user's run still works ...
    warnings = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    assert len(warnings) == 1 and "run not recorded in the history: run history" in warnings[0]  # ... and says so
    assert db().read_bytes() == before
    assert sorted(p.name for p in home().iterdir()) == ["history.db"]  # no -wal / -shm / -journal next to it


def test_a_file_that_is_not_a_history(mlcli, small_binary):
    db().parent.mkdir(parents=True)
    db().write_text("hello")
    assert error_line(mlcli("runs", "list")) == (
        f"{db()} is not an mlcli run history (not an SQLite database); move it away or set MLCLI_HOME to another "
        "directory")
    r = mlcli("train", small_binary, "--model", "logreg", "--format", "json")
    assert r.exit_code == 0 and "run not recorded in the history" in r.stderr
    assert db().read_text() == "hello"


def test_an_unwritable_home_only_warns(mlcli, small_binary, monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("MLCLI_HOME", str(tmp_path / "a-file" / "sub"))
    r = mlcli("train", small_binary, "--model", "logreg", "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["metrics"]
    assert "mlcli: warning: run not recorded in the history: cannot create the run history folder" in r.stderr


WRITER = """
import sys
from mlcli.tracking.history import History
n = int(sys.argv[1])
for i in range(n):
    with History() as h:
        rid = h.start("train", f"writer {sys.argv[2]} run {i}")
        h.finish(rid, "finished", metrics={"i": i}, model=sys.argv[2])
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    env = {**os.environ}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, "40", name], env=env, stderr=subprocess.PIPE, text=True)
             for name in ("a", "b")]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    from mlcli.tracking.history import History

    with History() as h:
        rows = h.list()
        assert h.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert h.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert len(rows) == 80 and len({r["id"] for r in rows}) == 80
    assert all(r["status"] == "finished" for r in rows)
    for name in ("a", "b"):
        assert sorted(r["metrics"]["i"] for r in rows if r["model"] == name) == list(range(40))


def test_two_trains_at_once_are_both_recorded(small_binary, tmp_path):
    exe = [sys.executable, "-m", "mlcli", "train", str(small_binary), "--model", "logreg", "--quiet"]
    procs = [subprocess.Popen([*exe, "--out", f"m{i}"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    for p in procs:
        assert p.wait(timeout=300) == 0
        assert p.stderr.read() == ""
    from mlcli.tracking.history import History

    with History() as h:
        rows = h.list()
    assert sorted(Path(r["bundle"]).name for r in rows) == ["m0", "m1"]
    assert {r["status"] for r in rows} == {"finished"}


def test_a_killed_writer_leaves_the_history_intact(tmp_path):
    """SIGKILL in the middle of writes (as a crash or power cut would): every record is whole or absent."""
    p = subprocess.Popen([sys.executable, "-c", WRITER, "100000", "k"], env={**os.environ}, stderr=subprocess.PIPE)
    deadline, written = time.time() + 60, 0
    while time.time() < deadline and written < 200:
        time.sleep(0.05)
        try:
            with sqlite3.connect(f"file:{db()}?mode=ro", uri=True, timeout=5) as conn:
                written = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        except sqlite3.Error:
            continue
    assert written >= 200 and p.poll() is None  # killed while still writing
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    from mlcli.tracking.history import History

    with History() as h:
        assert h.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = h.list()
    assert rows
    finished = [r for r in rows if r["status"] == "finished"]
    assert all(r["metrics"] == {"i": int(r["command_line"].split()[-1])} for r in finished)
    # a run whose process died between start and finish reads as interrupted, never as still running
    assert {r["status"] for r in rows} <= {"finished", "interrupted"}
    assert len(finished) >= len(rows) - 1


def test_runs_rerun_of_an_evaluate_run(mlcli, small_binary):
    train(mlcli, small_binary, "--out", "m")
    r = mlcli("evaluate", "m", small_binary, "--format", "json")
    r2 = mlcli("runs", "rerun", "2", "--format", "json")
    assert r2.exit_code == 0, r2.stderr
    assert json.loads(r2.stdout)["metrics"] == json.loads(r.stdout)["metrics"]
    assert f"mlcli: rerun of run 2: mlcli evaluate {Path('m').resolve()} {small_binary} --format json" in r2.stderr


def test_the_wrapper_records_a_partial_result_of_an_interrupted_command():
    """A command that returns a partial result (cv on Ctrl-C: its document says interrupted) is recorded as
    interrupted, with that result, and the run exits 130."""
    from typer.testing import CliRunner

    from mlcli.cli.app import MlcliGroup
    from mlcli.cli.tracking import track
    from mlcli.tracking.history import History

    app = typer.Typer(cls=MlcliGroup)

    @app.command("cv")
    def fake_cv(data: Annotated[str, typer.Argument()], folds: Annotated[int, typer.Option("--folds")] = 5,
                note: Annotated[Optional[str], typer.Option("--note")] = None) -> dict:
        return {"command": "cv", "task": "binary", "metric": "roc_auc", "interrupted": True,
                "leaderboard": [{"name": "logreg", "best": True, "mean": {"roc_auc": 0.7}}]}

    @app.command("other")
    def other() -> None:
        pass

    track(app)
    Path("r.yaml").write_text("data: d.csv\nfolds: 3\nnote: hello\n")
    Path("d.csv").write_text("a,b\n1,2\n")
    r = CliRunner().invoke(app, ["cv", "--recipe", "r.yaml"])
    assert r.exit_code == 130
    with History() as h:
        [run] = h.list()
    assert run["status"] == "interrupted" and run["metrics"] == {"roc_auc": 0.7} and run["model"] == "logreg"
    assert run["recipe"] == {"command": "cv", "data": str(Path("d.csv").resolve()), "folds": 3, "note": "hello"}
    assert run["data_fingerprint"].startswith("sha256:")
