"""One place where a result document becomes output: a Rich table on a terminal, JSON or CSV when piped.

Every command hands its document to :func:`emit` with its kind; which renderer draws a kind is listed once,
in :data:`RENDERERS` (imported only when used, so the help path stays light). JSON is the document itself.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from mlcli.render.output import resolve_format, stdout_console, write_json

# kind -> (Rich renderer "module:function" taking (console, doc, **options), CSV writer returning text or None)
RENDERERS: dict[str, tuple[str, str | None]] = {
    "train": ("mlcli.render.tables:render_train", "mlcli.render.tables:metrics_csv"),
    "evaluate": ("mlcli.render.tables:render_evaluate", "mlcli.render.tables:metrics_csv"),
    "cv": ("mlcli.render.cv:render_cv", "mlcli.render.cv:leaderboard_csv"),
    "tune": ("mlcli.render.tune:render_tune", "mlcli.render.tune:trials_csv"),
    "auto": ("mlcli.render.auto:render_auto", "mlcli.render.auto:leaderboard_csv"),
    "explain": ("mlcli.render.explain:render_explain", "mlcli.render.explain:features_csv"),
    "explain-row": ("mlcli.render.explain:render_row", "mlcli.render.explain:features_csv"),
    "balance": ("mlcli.render.tables:render_balance", "mlcli.render.tables:balance_csv"),
    "models": ("mlcli.render.tables:render_models", "mlcli.render.tables:models_csv"),
    "model-params": ("mlcli.render.tables:render_params", None),
    "runs": ("mlcli.render.runs:render_runs", "mlcli.render.runs:runs_csv"),
    "run": ("mlcli.render.runs:render_run", "mlcli.render.runs:metrics_csv"),
    "runs-compare": ("mlcli.render.runs:render_compare", "mlcli.render.runs:compare_csv"),
    "inspect": ("mlcli.render.inspect:render_inspect", "mlcli.render.inspect:files_csv"),
    "sign": ("mlcli.render.inspect:render_sign", None),
    "cluster": ("mlcli.render.cluster:render_cluster", "mlcli.render.cluster:cluster_csv"),
    "reduce": ("mlcli.render.reduce:render_reduce", "mlcli.render.reduce:reduce_csv"),
    "anomalies": ("mlcli.render.anomalies:render_anomalies", "mlcli.render.anomalies:anomalies_csv"),
    "methods": ("mlcli.render.methods:render_methods", "mlcli.render.methods:methods_csv"),
}


def _function(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def emit(kind: str, doc: Any, fmt: str | None = None, *, rows: bool = False, **options: Any) -> str:
    """Write ``doc`` to stdout as ``fmt`` (default: table on a terminal, else CSV for ``rows`` kinds, JSON
    otherwise); returns the format used. ``options`` go to the table renderer (e.g. ``top``)."""
    fmt = resolve_format(fmt, rows=rows)
    table, csv = RENDERERS[kind]
    if fmt == "table":
        _function(table)(stdout_console(), doc, **options)
    elif fmt == "csv" and csv is not None:
        sys.stdout.write(_function(csv)(doc))
        sys.stdout.flush()
    else:
        write_json(doc)
    return fmt
