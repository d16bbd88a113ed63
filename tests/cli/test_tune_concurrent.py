"""Several `mlcli tune` processes on one MLCLI_HOME at the same time: every search is kept whole in the study
store, every process exits 0 with no warning, and `--resume` finds each search.

Three worker processes import mlcli once and then run `tune` on command, all three at the same moment, ten
times, each time on a fresh home (the race was in creating the database and its tables: one process in three
lost its whole search without a word). Generated data: 60 rows, two numeric columns, a binary label.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
REPEATS = 10
TRIALS = 3
QUICK = ["--model", "logreg", "--folds", "2", "--trials", str(TRIALS), "--no-leak-check", "--format", "json"]

# a process that imports mlcli once, then runs one command per line of stdin ({"home": ..., "args": [...]})
# and answers with one line: the exit code, stdout and stderr
WORKER = r"""
import json, os, sys
from typer.testing import CliRunner
from mlcli.cli.app import app
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    os.environ["MLCLI_HOME"] = job["home"]
    r = CliRunner().invoke(app, job["args"])
    print(json.dumps({"code": r.exit_code, "stdout": r.stdout, "stderr": r.stderr,
                      "exception": repr(r.exception) if r.exit_code not in (0, 2) else None}), flush=True)
"""


@pytest.fixture
def data(tmp_path) -> Path:
    """Generated: 60 rows, y depends on a."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=60), rng.normal(size=60)
    path = tmp_path / "tiny.csv"
    pd.DataFrame({"a": a, "b": b, "label": np.where(a + 0.5 * rng.normal(size=60) > 0, "yes", "no")}).to_csv(
        path, index=False)
    return path


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLCLI_THREADS": "1", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, cwd=tmp_path_factory.mktemp("workers"), env=env)
             for _ in range(WORKERS)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        yield procs
    finally:
        for p in procs:
            p.stdin.close()
        for p in procs:
            p.wait(timeout=30)


def _run_together(procs, jobs: list[dict]) -> list[dict]:
    for p, job in zip(procs, jobs):  # written at once: the three runs start within milliseconds
        p.stdin.write(json.dumps(job) + "\n")
        p.stdin.flush()
    return [json.loads(p.stdout.readline()) for p in procs]


def _kept(home: Path, name: str) -> list:
    import optuna

    storage = optuna.storages.RDBStorage(f"sqlite:///{home / 'studies.db'}")
    return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)


def test_three_tune_processes_at_once_keep_every_trial(workers, data, tmp_path):
    for rep in range(REPEATS):
        home = tmp_path / f"home{rep}"  # fresh each time: the database is created by the racing processes
        jobs = [{"home": str(home), "args": ["tune", str(data), *QUICK, "--seed", str(seed)]}
                for seed in range(1, WORKERS + 1)]
        results = _run_together(workers, jobs)
        for res in results:
            assert res["code"] == 0, (rep, res)
            assert "warning" not in res["stderr"], (rep, res["stderr"])  # "the trials were not kept ..."
        docs = [json.loads(res["stdout"]) for res in results]
        assert [d["warnings"] for d in docs] == [[]] * WORKERS
        assert len({d["study"] for d in docs}) == WORKERS  # three searches (their folds differ by seed)
        for doc in docs:
            kept = _kept(home, doc["study"])
            assert sorted(t.number for t in kept) == list(range(TRIALS)), (rep, doc["study"])
            rows = {t.number: t.user_attrs["mlcli_row"]["row"]["scores"] for t in kept}
            assert [rows[t["trial"]] for t in doc["trials"]] == [t["fold_scores"] for t in doc["trials"]]
    # and --resume finds each search of the last home
    resumed = _run_together(workers, [{**job, "args": [*job["args"], "--resume", "--trials", "1"]} for job in jobs])
    for res in resumed:
        assert res["code"] == 0, res
        assert json.loads(res["stdout"])["resumed_trials"] == TRIALS


def test_the_same_search_twice_at_once_is_kept_once_and_whole(workers, data, tmp_path):
    """Two runs of one search (same data, folds, model, space) at the same moment: the study holds one run's
    trials, never a mix of both; a run that could not keep its trials says so."""
    for rep in range(2):
        home = tmp_path / f"same{rep}"
        job = {"home": str(home), "args": ["tune", str(data), *QUICK, "--seed", "7"]}
        results = _run_together(workers, [job] * WORKERS)
        assert [r["code"] for r in results] == [0] * WORKERS, results
        docs = [json.loads(r["stdout"]) for r in results]
        kept = _kept(home, docs[0]["study"])
        assert sorted(t.number for t in kept) == list(range(TRIALS))
        busy = (f"the trials were not kept for --resume: another mlcli process is using search {docs[0]['study']} "
                "(the same data, folds, model and space) at this moment")
        for r, doc in zip(results, docs):
            assert doc["warnings"] in ([], [busy]), doc["warnings"]
            warned = [line for line in r["stderr"].splitlines() if "warning" in line]
            assert warned == [f"mlcli: warning: {w}" for w in doc["warnings"]]
