"""A search's folds on a Dask cluster (``--scheduler``): each trial's folds are submitted together and taken in
fold order, so the search reports and prunes exactly as it does locally (the same fits on the same matrices, so
the same numbers: the tests compare them); the folds after a pruned, failed or timed-out fold are cancelled. The
data, and each fold's preprocessed rows (fitted here once per fold and shared by the trials, as locally), are
scattered to the cluster once. A fold on the cluster cannot be interrupted by a timer: the deadline is kept by
waiting at most until it and cancelling what still runs."""

from __future__ import annotations

import time
from typing import Any

from mlcli.experiments.cv import execution as ex

TICK_S = 0.5  # how often a wait wakes (Ctrl-C is seen between waits)


class RemoteFolds:
    def __init__(self, client: Any, schema: Any, X: Any, y: Any, splits: list[Any], classes: list[Any]):
        from mlcli.experiments.cv.pools import DaskPool

        self.pool = DaskPool(client, -1)
        self.schema, self.splits, self.classes = schema, splits, classes
        self.X, self.y = self.pool.put(X), self.pool.put(y)
        self.futures: list[Any] = []
        self.shared: dict[int, Any] = {}  # fold -> its preprocessed rows on the cluster

    def submit(self, config: Any, want_pred: bool, prepared: list[ex.Prepared | None]) -> None:
        """Start every fold of one configuration (no time budget inside: see the module docstring);
        ``prepared``: each fold's shared preprocessing, or None where the trial fits its own."""
        for si, prep in enumerate(prepared):
            if prep is not None and si not in self.shared:
                self.shared[si] = self.pool.put(prep)
        self.futures = [self.pool.submit(ex.run_fold, 0, si, self.schema, config, None if prep else self.X, self.y,
                                         split.train, split.test, self.classes, False, want_pred, None,
                                         self.shared[si] if prep else None)
                        for si, (split, prep) in enumerate(zip(self.splits, prepared))]

    def take(self, si: int, deadline: float | None) -> ex.FoldResult | None:
        """Fold ``si``'s result once it is done; None when the deadline comes first."""
        future = self.futures[si]
        while True:
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0:
                return None
            if self.pool.wait([future], TICK_S if left is None else min(TICK_S, left)):
                return self.pool.result(future)

    def cancel(self) -> None:
        """Stop the folds still running (after a pruned or failed fold, the deadline or Ctrl-C)."""
        self.pool.close(abort=True)
        self.pool._live = []
        self.futures = []
