"""cv's scheduler: expected costs, the order fits start in, threads at the tail, jobs chosen from the work,
and what the progress callback is told."""

from __future__ import annotations

import numpy as np
import pytest

from mlcli.data.dataset import DataOptions, encode_classes, load_dataset
from mlcli.experiments.cv import schedule
from mlcli.experiments.cv.request import CVRequest
from mlcli.experiments.cv.run import run_cv
from mlcli.models.build import ModelConfig, build_pipeline


def test_costs_start_from_the_table_and_follow_the_measured_fits():
    costs = schedule.Costs(["catboost", "logreg", "knn"], 32_561, 14)  # the table's own data size
    assert costs.expected(0) == pytest.approx(4.0) and costs.expected(1) == pytest.approx(0.5)
    costs.observe(0, 2.0)  # catboost ran twice as fast as the table says
    assert costs.expected(0) == 2.0
    assert costs.expected(1) == pytest.approx(0.25) and costs.expected(2) == pytest.approx(6.0)  # scaled alike
    costs.observe(1, 1.0)
    assert costs.expected(1) == 1.0
    small = schedule.Costs(["catboost"], 32_561, 1.4)
    assert small.expected(0) == pytest.approx(0.4)


def test_sequential_runs_go_fold_by_fold_parallel_ones_longest_first():
    costs = schedule.Costs(["logreg", "catboost", "baseline"], 1000, 5)
    pending = [(ci, si) for si in range(2) for ci in range(3)]
    assert schedule.order(pending, costs, sequential=True) == [(1, 0), (0, 0), (2, 0), (1, 1), (0, 1), (2, 1)]
    assert schedule.order(pending, costs, sequential=False) == [(1, 0), (1, 1), (0, 0), (0, 1), (2, 0), (2, 1)]


@pytest.mark.parametrize("model, remaining, free_slots, free_cores, expected", [
    ("xgboost", 5, 1, 1, 1),  # more fits wait than slots are free: the planned threads
    ("xgboost", 1, 2, 2, 2),  # the last fit, both cores free
    ("lightgbm", 2, 2, 4, 2),  # the last two, four cores free
    ("catboost", 1, 2, 2, 1),  # its results depend on its thread count: never changed
    ("logreg", 1, 2, 2, 1),
])
def test_the_last_fits_get_the_idle_cores(model, remaining, free_slots, free_cores, expected):
    assert schedule.tail_threads(model, 1, free_cores, remaining, free_slots) == expected


@pytest.mark.parametrize("n_fits, work_s, data_bytes, cores, memory, expected", [
    (30, 100.0, 10**6, 2, 10**10, 2),  # enough work: one worker per core
    (30, 2.0, 10**6, 2, 10**10, 1),  # a few seconds of work: workers would not pay for their start
    (1, 100.0, 10**6, 2, 10**10, 1),  # fewer fits than cores
    (30, 100.0, 10**6, 1, 10**10, 1),  # one core
    (30, 100.0, 10**9, 8, 8 * 10**9, 1),  # the data four times per worker must fit in half the memory
    (30, 100.0, 10**9, 8, 24 * 10**9, 3),
    (30, 100.0, 10**9, 8, None, 8),  # memory unknown
])
def test_jobs_chosen_from_the_work(n_fits, work_s, data_bytes, cores, memory, expected):
    assert schedule.auto_jobs(n_fits, work_s, data_bytes, cores, memory) == expected


def test_small_work_stays_in_this_process(small_binary):
    result = run_cv(CVRequest(DataOptions(str(small_binary)), models=["logreg,tree"], folds=3, leak_check=False))
    assert result.jobs == 1


@pytest.mark.slow
def test_enough_work_uses_worker_processes_with_the_same_results(small_binary, monkeypatch):
    monkeypatch.setattr(schedule, "WORKER_START_S", 0.0)  # any work pays for workers
    monkeypatch.setattr(schedule, "cpu_cores", lambda: 2)
    req = dict(models=["logreg,tree,xgboost"], folds=3, leak_check=False, oof=True)
    auto = run_cv(CVRequest(DataOptions(str(small_binary)), **req))
    assert (auto.jobs, auto.threads) == (2, 1)
    one = run_cv(CVRequest(DataOptions(str(small_binary)), jobs=1, threads=1, **req))
    assert [(r.candidate.label, r.scores, r.mean) for r in auto.rows] == \
        [(r.candidate.label, r.scores, r.mean) for r in one.rows]
    assert auto.oof.equals(one.oof)


def test_progress_names_the_running_fit_and_counts_work(small_binary):
    calls = []

    def record(done, total, last, *, running=(), work=None, eta=None):
        calls.append((done, total, last, list(running), work, eta))

    run_cv(CVRequest(DataOptions(str(small_binary)), models=["logreg,tree"], folds=2, jobs=1, leak_check=False),
           progress=record)
    assert calls[0][:4] == (0, 6, "", [])
    started = [c[3][0] for c in calls if c[3]]
    assert {"logreg f1", "tree f1", "baseline f2", "preprocessing f1"} <= set(started)
    finished = [c for c in calls if c[2]]
    assert [c[0] for c in finished] == list(range(1, 7)) and finished[-1][2] in started
    for done, total, _, _, (work_done, work_total), eta in calls:
        assert 0 <= work_done <= work_total and eta >= 0
    assert calls[-1][4][0] == pytest.approx(calls[-1][4][1]) and calls[-1][5] == 0


def test_thread_free_models_predict_the_same_with_any_thread_count(small_binary):
    ds = load_dataset(DataOptions(str(small_binary)))
    y, _ = encode_classes(ds)
    for model in sorted(schedule.THREAD_FREE):
        probas = []
        for threads in (1, 2):
            pipe = build_pipeline(ds.schema, ModelConfig(model, n_threads=threads))
            pipe.fit(ds.X.iloc[:150], y[:150])
            probas.append(pipe.predict_proba(ds.X.iloc[150:]))
        assert np.array_equal(probas[0], probas[1]), model
