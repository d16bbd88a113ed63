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
    from mlcli.registry.models import MODELS, get_spec, model_parameters
    from mlcli.render.output import resolve_format, stdout_console, write_json

    fmt = resolve_format(fmt)
    if name:
        spec = get_spec(name)
        if task not in spec.tasks:
            task = spec.tasks[0]
        params = model_parameters(spec.name, task)
        if fmt == "table":
            from mlcli.render.tables import render_params

            render_params(stdout_console(), spec.name, task, params)
        else:
            write_json({"model": spec.name, "task": task, "params": {k: repr(v) if not isinstance(
                v, (int, float, str, bool, type(None))) else v for k, v in params.items()}})
        return
    rows = [{"name": s.name, "tasks": list(s.tasks), "installed": s.installed(), "summary": s.summary,
             "aliases": list(s.aliases), "install": {"xgboost": "xgboost-cpu"}.get(s.package, s.package)
             if not s.extra else f"'mlcli[{s.extra}]'"} for s in MODELS.values()]
    if fmt == "table":
        from mlcli.render.tables import render_models

        render_models(stdout_console(), rows)
    elif fmt == "csv":
        import sys

        sys.stdout.write("name,tasks,installed\n" + "".join(
            f"{r['name']},{' '.join(r['tasks'])},{str(r['installed']).lower()}\n" for r in rows))
    else:
        write_json(rows)


def register(app: typer.Typer) -> None:
    app.command("models")(models)
