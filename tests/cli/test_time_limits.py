"""Time limits and counts out of range: one line and exit 2 before the data is read (inf and 1e12 overflowed the
fit timer: every candidate failed, exit 0); a limit too short for any model to finish says so after the search,
exit 2, recorded as failed (it was an empty leaderboard, exit 0, recorded as finished)."""

from __future__ import annotations

import json
import re
import time

import pytest

from conftest import SAMPLE, assert_error, error_line

IRIS = SAMPLE / "iris.csv"
MAX = "must be at most 604800 seconds (7 days), got"
SHORT = "must be at least 1 second, got 0.001: no model is read, cross-validated and scored in less"


def _last_run(mlcli) -> dict:
    runs = json.loads(mlcli("runs", "list", "--format", "json").stdout)
    return (runs if isinstance(runs, list) else runs["runs"])[0]


@pytest.mark.parametrize("command", [["auto"], ["tune", "-m", "knn"]])
@pytest.mark.parametrize("limit, message", [
    ("inf", f"--time-limit {MAX} inf"),
    ("1e12", f"--time-limit {MAX} 1e+12"),
    ("604801", f"--time-limit {MAX} 604801"),
    ("nan", "--time-limit must be a positive number of seconds, got nan"),
    ("-inf", "--time-limit must be a positive number of seconds, got -inf"),
    ("0", "--time-limit must be a positive number of seconds, got 0"),
    ("0.001", f"--time-limit {SHORT}"),
])
def test_a_time_limit_out_of_range_is_one_line_before_the_data_is_read(mlcli, command, limit, message):
    res = mlcli(command[0], IRIS, *command[1:], "--time-limit", limit)
    assert error_line(res) == message  # the only line: not even the target was chosen


@pytest.mark.parametrize("limit, message", [("inf", f"--timeout {MAX} inf"), ("1e12", f"--timeout {MAX} 1e+12")])
def test_cv_timeout_out_of_range(mlcli, limit, message):
    assert error_line(mlcli("cv", IRIS, "--models", "logreg", "--timeout", limit)) == message


@pytest.mark.parametrize("args, message", [
    (["--folds", "1"], "--folds must be at least 2, got 1"),
    (["--repeats", "0"], "--repeats must be at least 1, got 0"),
])
def test_tune_checks_folds_and_repeats_before_reading(mlcli, args, message):
    assert error_line(mlcli("tune", IRIS, "-m", "knn", *args)) == message


@pytest.fixture
def slow_fits(monkeypatch):
    """Every fold fit takes 0.4 s more: no model can finish its folds within a limit of a second or two."""
    from mlcli.experiments.cv import execution

    real = execution.run_fold

    def slow(*args, **kwargs):
        time.sleep(0.4)
        return real(*args, **kwargs)

    monkeypatch.setattr(execution, "run_fold", slow)


NEED = r"give a larger --time-limit \(at least ~(\d+(?:\.\d+)?) s for this data\)"


def test_auto_says_when_no_model_finished_within_the_limit(mlcli, slow_fits):
    res = mlcli("auto", IRIS, "--time-limit", "1.5", "--preset", "fast", "--jobs", "1", "--no-leak-check", "-q")
    message = error_line(res)
    match = re.fullmatch(rf"no model finished within --time-limit 1\.5 s: {NEED}", message)
    assert match and float(match.group(1)) >= 2, message  # a round number above the limit given
    run = _last_run(mlcli)
    assert run["command"] == "auto" and run["status"] == "failed" and run["error"] == message


def test_auto_out_says_the_same_and_saves_nothing(mlcli, slow_fits, tmp_path):
    res = mlcli("auto", IRIS, "--time-limit", "1.5", "--preset", "fast", "--jobs", "1", "--no-leak-check",
                "--out", tmp_path / "model")
    assert_error(res, "no model finished within --time-limit 1.5 s: give a larger --time-limit (at least ~")
    assert not (tmp_path / "model").exists()


def test_tune_says_when_no_trial_finished_within_the_limit(mlcli, slow_fits):
    res = mlcli("tune", IRIS, "-m", "knn", "--time-limit", "1.5", "--no-leak-check", "-q")
    message = error_line(res)
    match = re.fullmatch(rf"no trial finished within --time-limit 1\.5 s: {NEED}", message)
    assert match and float(match.group(1)) >= 2, message
    run = _last_run(mlcli)
    assert run["command"] == "tune" and run["status"] == "failed" and run["error"] == message


def test_auto_every_candidate_failed(mlcli, monkeypatch):
    """Not a matter of time: every fit failed, as cv says it ("every model failed")."""
    from mlcli.experiments.cv import execution

    def broken(ci, si, *args, **kwargs):
        return execution.FoldResult(ci, si, "failed", error="ValueError: broken on purpose")

    monkeypatch.setattr(execution, "run_fold", broken)
    res = mlcli("auto", IRIS, "--time-limit", "30", "--preset", "fast", "--candidates", "2", "--jobs", "1",
                "--no-leak-check", "-q")
    assert re.fullmatch(r"every candidate failed; \S+: ValueError: broken on purpose", error_line(res))


def test_help_gives_the_range(mlcli):
    for command in ("auto", "tune"):
        text = " ".join(mlcli(command, "--help").stdout.split())
        assert "from 1 to 604800 (7 days)" in text, command
    assert "at most 604800 (7 days)" in " ".join(mlcli("cv", "--help").stdout.split())
