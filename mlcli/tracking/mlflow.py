"""Logging a run to MLflow (the optional ``mlflow`` extra): params, metrics and the model bundle.

MLflow is imported only here and only when asked for (``--mlflow URI`` or ``$MLFLOW_TRACKING_URI``). The
client API is used, not the fluent one, so nothing global (an active run) is left behind in the process.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
from typing import Any

from mlcli.errors import MissingDependency, redact

EXPERIMENT = "mlcli"  # used unless $MLFLOW_EXPERIMENT_NAME names another
_MAX_PARAM = 500  # MLflow's limit on a param value's length (older servers)


def available() -> bool:
    return importlib.util.find_spec("mlflow") is not None


def require() -> None:
    if not available():
        raise MissingDependency("mlflow", "--mlflow", extra="mlflow")


def is_file_store(uri: str) -> bool:
    """A ``file:`` URI or a plain local path (MLflow's file store), not a server or a database."""
    return uri.startswith("file:") or "://" not in uri and not uri.startswith(("databricks", "sqlite:"))


def flat_params(recipe: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A recipe as MLflow params: nested mappings flattened with dots, lists joined with commas."""
    out: dict[str, str] = {}
    for key, value in recipe.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_params(value, f"{name}."))
            continue
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        out[_safe(name)] = redact(text)[:_MAX_PARAM]
    return out


def _safe(name: str) -> str:
    """MLflow keys allow letters, digits, _ - . space / only."""
    return re.sub(r"[^\w\-. /]", "_", name)


def log_run(uri: str, command: str, recipe: dict[str, Any], metrics: dict[str, Any], bundle: str | None,
            history_id: int | None = None, model: str | None = None) -> str:
    """Log one finished run; returns the MLflow run id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    from mlcli import __version__

    if is_file_store(uri):  # MLflow 3 refuses its file store unless told; the user asked for it by name
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=uri)
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    data = os.path.basename(str(recipe.get("data", ""))) or "stdin"
    tags = {"mlcli.command": command, "mlcli.version": __version__}
    if history_id is not None:
        tags["mlcli.history_id"] = str(history_id)
    run = client.create_run(experiment_id, run_name=f"{command} {model or ''} {data}".replace("  ", " ").strip(),
                            tags=tags)
    run_id = run.info.run_id
    try:
        import time

        stamp = int(time.time() * 1000)
        values = [Metric(_safe(k), float(v), stamp, 0) for k, v in metrics.items()
                  if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        params = [Param(k, v) for k, v in flat_params(recipe).items()]
        client.log_batch(run_id, metrics=values, params=params, tags=[RunTag(k, v) for k, v in tags.items()])
        if bundle and os.path.isdir(bundle):
            client.log_artifacts(run_id, bundle, artifact_path="bundle")
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    return run_id
