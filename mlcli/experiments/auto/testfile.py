"""``auto --test FILE``: the final model scored on labelled rows the search never saw, the baseline beside it
(AutoGluon's ``leaderboard(test)`` for the model auto returns). The file is read and checked against the
training data's columns before the search, so a wrong file costs nothing; it is scored after the final fit
(without ``--out`` the final model is fitted into a temporary directory that is removed afterwards)."""

from __future__ import annotations

import time
from typing import Any

from mlcli.data.dataset import Dataset, Notify, quiet
from mlcli.errors import ConfigError, DataError


def check_test_file(path: str, ds: Dataset, data_path: str, sep: str | None, encoding: str | None) -> None:
    """Refuse, before any fit, a --test file that cannot be scored: stdin taken twice, the training file itself,
    no target column, or columns that do not match the training data's."""
    from pathlib import Path

    from mlcli.data.read import read_table
    from mlcli.data.schema import check_against_schema

    if path == "-":
        raise ConfigError("--test must be a file (stdin cannot be read after the search)")
    if data_path != "-" and Path(path).resolve() == Path(data_path).resolve():
        raise ConfigError(f"--test {path} is the training file: give rows the search does not see")
    df = read_table(path, sep=sep, encoding=encoding)
    target = ds.schema.target
    if target not in df.columns:
        raise DataError(f"--test file {path} has no target column '{target}'")
    labelled = df[df[target].notna()]
    if labelled.empty:
        raise DataError(f"every row of --test file {path} has a missing target '{target}'")
    check_against_schema(labelled, ds.schema, f"--test file {path}", notify=quiet)


def score_test_file(bundle: str, path: str, metric: str, sep: str | None, encoding: str | None,
                    notify: Notify = quiet) -> dict[str, Any]:
    """The final model's metrics on the --test file, the baseline's beside them (the ``test_file`` entry of the
    result document)."""
    from mlcli.experiments.evaluate import evaluate

    t0 = time.perf_counter()
    res = evaluate(bundle, path, sep=sep, encoding=encoding, notify=notify)
    metrics = res.report.metrics
    base = res.baseline or {}
    return {"data": path, "rows": res.report.n_rows, "metric": metric, "score": metrics.get(metric),
            "baseline_score": base.get(metric), "metrics": metrics, "baseline": res.baseline,
            "training_rows": res.training_rows, "warnings": res.warnings,
            "seconds": round(time.perf_counter() - t0, 3)}
