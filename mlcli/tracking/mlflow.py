"""Logging a run to MLflow (the optional ``mlflow`` extra): params, metrics and the model bundle.

MLflow is imported only here and only when asked for (``--mlflow URI`` or ``$MLFLOW_TRACKING_URI``). The
client API is used, not the fluent one, so nothing global (an active run) is left behind in the process.

A tracking server is checked with one plain HTTP request (:func:`unreachable`, :data:`PROBE_S` seconds at most,
no retries) before the run and again before logging: MLflow's own client retries a server that does not
answer for minutes (7 retries, 2 s backoff doubling: 254 s), and a run must never wait on its bookkeeping.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import threading
from typing import Any

from mlcli.errors import MissingDependency, first_line, redact

EXPERIMENT = "mlcli"  # used unless $MLFLOW_EXPERIMENT_NAME names another
_MAX_PARAM = 500  # MLflow's limit on a param value's length (older servers)
PROBE_S = 2.0  # how long the check that a tracking server answers may take, all in all


def available() -> bool:
    return importlib.util.find_spec("mlflow") is not None


def require() -> None:
    if not available():
        raise MissingDependency("mlflow", "--mlflow", extra="mlflow")


def is_file_store(uri: str) -> bool:
    """A ``file:`` URI or a plain local path (MLflow's file store), not a server or a database."""
    return uri.startswith("file:") or "://" not in uri and not uri.startswith(("databricks", "sqlite:"))


def unreachable(uri: str, timeout: float = PROBE_S) -> str | None:
    """Why the tracking server at ``uri`` cannot be used now, in a few words, or None when it answers or when
    ``uri`` names no HTTP server (a file store, a database, databricks: nothing that can keep a run waiting).

    One GET of ``/health`` under the URI, without its credentials (any status answers but a gateway's 502, 503
    or 504: a 401 or a 404 still shows a server there), and nothing waits longer than ``timeout`` seconds, name
    resolution included."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(uri)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError as exc:  # a port that is no number
        return f"not a URL: {first_line(exc)}"
    url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + "/health", "", ""))
    answer: list[str | None] = []
    probe = threading.Thread(target=lambda: answer.append(_get(url, timeout)), daemon=True, name="mlcli-mlflow-probe")
    probe.start()
    probe.join(timeout + 0.25)  # getaddrinfo() knows no timeout: the thread is left behind if it hangs there
    return answer[0] if answer else f"no answer within {timeout:g} s"


def _get(url: str, timeout: float) -> str | None:
    import http.client
    import ssl
    import urllib.error
    import urllib.request

    context = ssl.create_default_context()
    context.check_hostname = False  # whether a server answers, nothing more: no credentials are sent
    context.verify_mode = ssl.CERT_NONE
    silent = f"no answer within {timeout:g} s"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout, context=context):
            return None
    except urllib.error.HTTPError as exc:
        return f"it answered {exc.code} {exc.reason}" if exc.code in (502, 503, 504) else None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return silent
        return (reason.strerror or first_line(reason)) if isinstance(reason, OSError) else str(reason)
    except TimeoutError:  # connected, but nothing came back
        return silent
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return first_line(exc, with_type=True)


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
