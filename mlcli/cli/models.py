"""mlcli models: every model, its tasks and whether it is installed (imports none of them)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o


def models(
    name: Annotated[Optional[str], typer.Argument(help="A model name: show its parameters.")] = None,
    task: Annotated[str, typer.Option("--task", help="Task whose parameters to show.")] = "binary",
    kind: Annotated[Optional[str], typer.Option(
        "--kind", help="List the unsupervised methods instead: cluster|reduce|anomalies.")] = None,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """List the models (or one model's parameters); --kind lists the cluster, reduce or anomalies methods."""
    from mlcli.models.estimators import model_parameters
    from mlcli.models.registry import MODELS, get_spec
    from mlcli.render.emit import emit

    if kind is not None or (name and name.strip().lower() not in MODELS and _method(name)):
        return _methods(name, kind, fmt)
    if name:
        spec = get_spec(name)
        if task not in spec.tasks:
            task = spec.tasks[0]
        params = model_parameters(spec.name, task)
        emit("model-params", {"model": spec.name, "task": task, "params": {
            k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v) for k, v in params.items()}}, fmt)
        return
    rows = [{"name": s.name, "tasks": list(s.tasks), "installed": s.installed(), "summary": s.summary,
             "aliases": list(s.aliases), "install": f"'mlcli[{s.extra}]'" if s.extra else s.install}
            for s in MODELS.values()]
    emit("models", rows, fmt)


def _method(name: str):
    from mlcli.errors import ConfigError
    from mlcli.models.registry import get_spec
    from mlcli.models.unsupervised import find_method

    try:
        get_spec(name)
        return None
    except ConfigError:  # not a model name: an unsupervised method, or an unknown name
        return find_method(name)


def _methods(name: Optional[str], kind: Optional[str], fmt: Optional[str]) -> None:
    """The unsupervised registry: the methods of one kind, or one method's parameters."""
    from mlcli.errors import ConfigError
    from mlcli.models.unsupervised import KINDS, METHODS, get_method, method_parameters
    from mlcli.render.emit import emit

    if kind is not None and kind not in KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(KINDS)}, got '{kind}'")
    if name:
        spec = get_method(kind, name) if kind else _method(name)
        params = method_parameters(spec)
        emit("model-params", {"model": spec.name, "task": spec.kind, "params": {
            k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v) for k, v in params.items()}}, fmt)
        return
    rows = [{"name": s.name, "kind": s.kind, "installed": s.installed(), "summary": s.summary,
             "aliases": list(s.aliases), "install": f"'mlcli[{s.extra}]'" if s.extra else s.install}
            for s in METHODS[kind].values()]
    emit("methods", rows, fmt)


def register(app: typer.Typer) -> None:
    app.command("models")(models)
