"""mlcli runs: the run history (list, show, compare, rerun)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state

runs_app = typer.Typer(
    name="runs", help="The run history: every train, cv and evaluate run, with its recipe and metrics.",
    no_args_is_help=True, rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
)

RunId = Annotated[str, typer.Argument(help="Run id (see: mlcli runs list).", metavar="ID", show_default=False)]
TABLE_LIMIT = 20


def _run_id(text: str) -> int:
    from mlcli.errors import ConfigError

    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"a run id is a whole number (see: mlcli runs list), got '{text}'") from None
    if value < 1:
        raise ConfigError(f"run ids start at 1, got {value}")
    return value


def _history():
    from mlcli.tracking.history import History

    return History(create=False)


@runs_app.command("list")
def list_runs(
    limit: Annotated[Optional[int], typer.Option("--limit", "-n", min=0, help=f"Show at most N runs, newest first "
                                                 f"(0: all; default {TABLE_LIMIT} in a table, all as JSON/CSV).")
    ] = None,
    command: Annotated[Optional[str], typer.Option("--command", "-c", help="Only runs of this command: "
                                                   "train|cv|evaluate.")] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="Only runs with this status: "
                                                  "finished|failed|interrupted|running.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m",
                                                 help="Only runs of this model (cv: the best).")] = None,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """Recorded runs, newest first.

    Example: mlcli runs list --format json | jq '.[] | select(.metrics.roc_auc > 0.9)'
    """
    from mlcli.cli.tracking import RECORDED
    from mlcli.errors import ConfigError, did_you_mean
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier, resolve_format
    from mlcli.tracking.history import STATUSES

    if command is not None and command not in RECORDED:
        raise ConfigError(f"--command must be one of {', '.join(sorted(RECORDED))}, got '{command}'"
                          f"{did_you_mean(command, RECORDED)}")
    if status is not None and status not in STATUSES:
        raise ConfigError(f"--status must be one of {', '.join(STATUSES)}, got '{status}'"
                          f"{did_you_mean(status, STATUSES)}")
    fmt = resolve_format(fmt, rows=True)
    if limit is None:
        limit = TABLE_LIMIT if fmt == "table" else 0
    with _history() as h:
        runs = h.list(limit=limit or None, command=command, status=status, model=model)
        total = len(h.list(command=command, status=status, model=model)) if fmt == "table" and limit else len(runs)
        path = h.path
    notify = Notifier(state.quiet)
    if fmt == "table" and not runs:
        notify(f"no runs recorded yet in {path}" if not (command or status or model) else "no run matches")
        return
    emit("runs", runs, fmt)
    if fmt == "table" and total > len(runs):
        notify(f"showing the {len(runs)} newest of {total} runs; --limit 0 shows all")


@runs_app.command("show")
def show(
    run_id: RunId,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """Everything recorded about one run: command, recipe, data, libraries, metrics.

    Example: mlcli runs show 42
    """
    from mlcli.render.emit import emit

    with _history() as h:
        run = h.get(_run_id(run_id))
    emit("run", run, fmt)


@runs_app.command("compare")
def compare(
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.", metavar="ID ID...",
                                                 show_default=False)],
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> None:
    """Settings and metrics of runs side by side; the settings that differ come first.

    Example: mlcli runs compare 41 42
    """
    from mlcli.errors import ConfigError
    from mlcli.render.emit import emit
    from mlcli.tracking.records import compare_runs

    if len(run_ids) < 2:
        raise ConfigError(f"runs compare needs two or more run ids, got {len(run_ids)}: e.g. mlcli runs compare 41 42")
    ids = [_run_id(i) for i in run_ids]
    with _history() as h:
        runs = [h.get(i) for i in ids]
    emit("runs-compare", compare_runs(runs), fmt)


@runs_app.command("rerun", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def rerun(
    ctx: typer.Context,
    run_id: RunId,
) -> None:
    """Run a recorded run again with the same recipe; options after the id are added (the later one wins).

    Example: mlcli runs rerun 42 --folds 10 --format json
    """
    from mlcli.cli.tracking import key_specs, to_argv
    from mlcli.errors import ConfigError
    from mlcli.tracking.recipe import Recipe, resolve

    run_id = _run_id(run_id)  # type: ignore[assignment]
    with _history() as h:
        run = h.get(run_id)
    if not run.get("recipe"):
        raise ConfigError(f"run {run_id} has no recorded recipe, so it cannot be rerun")
    name = run["command"]
    root = ctx.find_root()
    cmd = root.command.get_command(root, name)
    if cmd is None:
        raise ConfigError(f"run {run_id} is a '{name}' run, a command this mlcli does not have")
    from pathlib import Path

    values = dict(run["recipe"])
    values.pop("command", None)
    recipe = Recipe(Path(f"of run {run_id}"), values, None)
    params = resolve(recipe, name, key_specs(cmd))
    kept = _keep_bundle(cmd, name, ctx, params, run_id)
    argv = to_argv(name, cmd.params, params)[1:] + list(ctx.args)
    ctx.meta["mlcli.rerun_of"] = run_id
    from mlcli.cli.tracking import command_line
    from mlcli.render.output import Notifier

    Notifier(state.quiet or bool({"--quiet", "-q"} & set(ctx.args)))(
        f"rerun of run {run_id}: {command_line([name, *argv])}{kept}")
    with cmd.make_context(name, argv, parent=ctx) as sub:
        cmd.invoke(sub)


# the option of each command that writes a bundle: a rerun never writes over another run's
BUNDLE_OPTION = {"train": "out", "cv": "save_best", "auto": "out", "tune": "save_best"}


def _keep_bundle(cmd: Any, name: str, ctx: typer.Context, params: dict[str, Any], run_id: int) -> str:
    """Point the rerun's bundle option (``params``, changed in place) at a fresh path when it would write
    over an existing bundle: the recorded one, or train's default models/DATA-MODEL when that exists. Not
    when the options after the id give it. Returns what the notice adds, or ''."""
    option = BUNDLE_OPTION.get(name)
    if option is None:
        return ""
    given = _given_after_id(cmd, name, ctx)
    if given is None or _from_line(given, option):
        return ""
    old = params.get(option) or (_existing_default(params, given) if name == "train" else None)
    if old is None:
        return ""
    params[option] = _fresh(old, run_id)
    return f" (a new bundle path, so that {old} stays as it is)"


def _given_after_id(cmd: Any, name: str, ctx: typer.Context) -> Any:
    """The options after the id, parsed by the command without running anything (None if they do not parse:
    the command then reports it)."""
    click_error = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")  # typer's click
    try:
        with cmd.make_context(name, list(ctx.args), parent=ctx, resilient_parsing=True) as sub:
            return sub
    except click_error:
        return None


def _from_line(given: Any, param: str) -> bool:
    source = given.get_parameter_source(param)
    return source is not None and source.name == "COMMANDLINE"


def _existing_default(params: dict[str, Any], given: Any) -> str | None:
    """train's default bundle path models/DATA-MODEL (the model after the id, else the recorded one) when a
    bundle is already there."""
    from pathlib import Path

    from mlcli.errors import MlcliError
    from mlcli.experiments.train import default_out
    from mlcli.models.registry import get_spec

    model = given.params["model"] if _from_line(given, "model") else (params.get("model") or "xgboost")
    try:
        spec = get_spec(model)
    except MlcliError:
        return None  # train says so
    paths = [default_out(str(params.get("data", "-")), spec.display_name(t)) for t in ("binary", "regression")]
    return next((p for p in paths if Path(p).exists()), None)


def _fresh(path: str, run_id: int) -> str:
    """PATH-rerun-of-N, or PATH-rerun-of-N-2, -3, ... : the first that does not exist."""
    from pathlib import Path

    base = f"{str(path).rstrip('/')}-rerun-of-{run_id}"
    candidate, n = base, 1
    while Path(candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
