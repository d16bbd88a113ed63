"""A fit stopped at its time budget is a timed-out fit, also when the library turns the alarm into a
KeyboardInterrupt (CatBoost does): cv reports the model as timed out and exits 0, tune ends at its time limit
without calling it an interruption."""

from __future__ import annotations

import json

import pytest

from conftest import SAMPLE

pytest.importorskip("catboost")

DEFAULT = SAMPLE / "default.csv"  # 10,000 rows: one CatBoost fold takes longer than the budgets below
# Early stopping off: on this easy file CatBoost can stop after a few dozen rounds, under 0.2 s on a fast machine.
FULL = ("--param", "early_stopping=false", "--param", "iterations=2000")


@pytest.mark.parametrize("jobs", ["1", "2"])  # the alarm in this process, and in worker processes
def test_cv_timeout_with_catboost_is_a_timeout_not_an_interruption(mlcli, jobs):
    res = mlcli("cv", DEFAULT, "--models", "catboost", "--timeout", "0.2", "--jobs", jobs, *FULL,
                "--no-leak-check", "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["interrupted"] is False
    rows = {r["name"]: r for r in doc["leaderboard"]}
    assert rows["catboost"]["status"] == "timeout" and rows["catboost"]["folds"] == 0
    assert "catboost: timed out after" in res.stderr and "interrupted" not in res.stderr


def test_tune_time_limit_reached_inside_a_catboost_fit(mlcli):
    res = mlcli("tune", DEFAULT, "--model", "catboost", "--time-limit", "4", "--folds", "3", "--no-leak-check",
                "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["interrupted"] is False and doc["timed_out"] is True
    assert doc["trials"][-1]["state"] == "timeout" and "interrupted" not in res.stderr
