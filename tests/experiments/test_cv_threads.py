"""MLCLI_THREADS in cv: it sets the default threads per model, capped so that jobs x threads fits the cores."""

from __future__ import annotations

import pytest

from mlcli.experiments.cv import execution


@pytest.fixture
def eight_cores(monkeypatch):
    import joblib

    monkeypatch.setattr(joblib, "cpu_count", lambda *a, **k: 8)


@pytest.mark.parametrize("env, jobs, threads, expected", [
    ("2", None, None, (1, 2)),  # the variable caps the default
    ("16", 2, None, (2, 4)),  # ... but never past the fair share of the cores
    ("3", 2, None, (2, 3)),
    ("2", 2, 3, (2, 3)),  # --threads wins
    ("1", 2, 8, (2, 4)),  # and is capped as before
    ("0", 2, None, (2, 4)),  # not a positive whole number: ignored
    ("many", None, None, (1, 8)),
    ("", 4, None, (4, 2)),
])
def test_mlcli_threads_sets_the_default_threads_per_model(monkeypatch, eight_cores, env, jobs, threads, expected):
    monkeypatch.setenv("MLCLI_THREADS", env)
    assert execution.plan_parallel(jobs, threads, None) == expected


def test_without_mlcli_threads_the_cores_are_shared(monkeypatch, eight_cores):
    monkeypatch.delenv("MLCLI_THREADS")
    assert execution.plan_parallel(None, None, None) == (1, 8)
    assert execution.plan_parallel(2, None, None) == (2, 4)


def test_mlcli_threads_says_nothing(monkeypatch, eight_cores):
    monkeypatch.setenv("MLCLI_THREADS", "16")
    notes: list[str] = []
    assert execution.plan_parallel(4, None, None, notes.append) == (4, 2)
    assert notes == []


def test_cv_reports_the_threads_it_used(mlcli, small_binary, monkeypatch, eight_cores):
    import json

    monkeypatch.setenv("MLCLI_THREADS", "2")
    r = mlcli("cv", small_binary, "--models", "logreg", "--folds", "2", "--format", "json", "--quiet")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["parallel"] == {"jobs": 1, "threads_per_model": 2, "scheduler": None}
