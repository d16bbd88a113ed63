"""mlcli models: every model, its tasks and whether it is installed (imports none of them)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o


def models(
    name: Annotated[Optional[str], typer.Argument(help="A model name: show its parameters.")] = None,
    task: Annotated[str, typer.Option("--task", help="Task whose parameters to show.")] = "binary",
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """List the models (or one model's parameters)."""
    from mlcli.models.estimators import model_parameters
    from mlcli.models.registry import MODELS, get_spec
    from mlcli.render.emit import emit

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


def register(app: typer.Typer) -> None:
    app.command("models")(models)
