"""auto's first batch: the baseline and the cheapest model only, so that a model always finishes before a slow
one can take the budget (sample_data/finefoods.csv at 60 s: XGBoost and CatBoost on 20,000 TF-IDF columns once
took the whole minute while logistic regression, a second's work, waited behind them)."""

from __future__ import annotations

import time
from types import SimpleNamespace

from mlcli.experiments.auto import portfolio as P
from mlcli.experiments.auto.board import AutoCandidate, Tried
from mlcli.experiments.auto.run import _next_batch
from mlcli.experiments.cv import schedule
from mlcli.experiments.cv.execution import FoldResult
from mlcli.experiments.cv.folds import Split


def _setup(jobs=2):
    base = P.Candidate("baseline", {}, "baseline", 0.0, "baseline")
    cands = [base] + P.portfolio("binary", 4000, 3, 2, 0.0, True)[:5]
    assert [c.tier for c in cands[1:]] == ["default"] * 5
    splits = [Split(0, 0, [0], [1])]
    ctx = SimpleNamespace(jobs=jobs, tried=Tried(splits), skipped=[], splits=splits)
    costs = schedule.Costs([c.model for c in cands], 4000, 3)
    costs.prior = [max(c.cost_s, 1e-3) for c in cands]
    return ctx, cands, costs


def test_the_first_batch_is_the_baseline_and_the_cheapest_model():
    ctx, cands, costs = _setup()
    queue = list(range(len(cands)))
    batch = _next_batch(ctx, cands, queue, costs, time.perf_counter() + 600)
    assert [cands[i].label for i in batch] == ["baseline", cands[1].label]
    assert cands[1].model == "logreg" and cands[1].cost_s == min(c.cost_s for c in cands[1:])
    # once a model has finished its folds the estimates are calibrated: later batches hold several
    ctx.tried.add(AutoCandidate("logreg", (), name=cands[1].label, tier="default"), None,
                  {0: FoldResult(0, 0, "ok", fit_s=0.5)})
    later = _next_batch(ctx, cands, queue, costs, time.perf_counter() + 600)
    assert len(later) >= 2
