"""mlcli inspect: what a model bundle holds, read without loading the model; --upgrade for old bundles."""

from __future__ import annotations

from typing import Annotated

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state


def inspect(
    bundle: Annotated[str, typer.Argument(help="Model bundle directory.")],
    upgrade: Annotated[bool, typer.Option("--upgrade", help="Rewrite a bundle of the old pickle format in the "
                                          "safe one (needs --trust-pickle: reading the pickle runs it).")] = False,
    trust_pickle: o.TrustPickle = False,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> dict:
    """What a bundle holds: model, task, target, classes, columns, metrics, base models, versions, files and
    their sha256, every type loading it would build, its signature — and whether loading will accept it, by the
    same checks, without loading the model. Exit 2 (after the report) when loading would refuse it.

    Example: mlcli inspect models/titanic-xgboost
    """
    from mlcli.experiments.inspect import inspect_bundle, refused
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier

    notify = Notifier(state.quiet)
    doc = inspect_bundle(bundle, upgrade=upgrade, trust_pickle=trust_pickle, notify=notify)
    if emit("inspect", doc, fmt) != "table":  # the table shows them in its Warnings panel
        for line in doc["warnings"]:
            notify.warn(line)
    error = refused(doc)
    if error is not None:
        raise error
    return doc


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)
