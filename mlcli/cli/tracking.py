"""Recipes, run history and MLflow for the commands, applied by one generic wrapper (the Typer side).

:func:`track` wraps the registered ``train``, ``cv`` and ``evaluate`` callbacks (``auto`` and ``tune`` wrap
themselves with :func:`tracked`). For the recipe commands (``RECIPE_COMMANDS``: ``train``, ``cv``, ``auto`` ...)
it adds ``--recipe``, ``--save-recipe`` and ``--mlflow`` and makes the DATA argument optional. The recipe keys
are derived from the command's own options (a ``KeySpec`` per option), so an option added to a command is a
recipe key at once. A recipe value fills an option only when the command line did not give it
(``ctx.get_parameter_source``); it is converted and checked by the option itself (``process_value``), the
same path a command-line value takes.

A tracked command returns its result document; the wrapper hands it to the run's tracker
(``mlcli.tracking.tracker``: run history, --save-recipe, --mlflow), which never lets bookkeeping fail a run.
"""

from __future__ import annotations

import functools
import inspect
import shlex
import time
from copy import copy
from typing import Annotated, Any, Optional, get_args

import typer

from mlcli.tracking.recipe import RECIPE_COMMANDS

TRACKED_COMMANDS = ("train", "cv", "evaluate")  # wrapped by track(); others call tracked() themselves
RECORDED: list[str] = []  # every command whose runs the history records, in the order they were registered
# recipe_file: tune's --save-recipe, which writes a train recipe (an output of the run, not a setting of it)
NOT_RECIPE_KEYS = {"fmt", "quiet", "debug", "recipe", "save_recipe", "recipe_file", "mlflow", "mlcli_ctx",
                   "trust_pickle"}
RECIPE_KEY = {"param": "params"}  # parameter name -> recipe key, where they differ
KIND_BY_NAME = {"param": "params", "grid": "grid"}  # key=value options that a recipe writes as mappings
INPUT_PATHS = {"data", "test", "base_model", "bundle"}
OUTPUT_PATHS = {"out", "oof", "save_best", "plot", "report"}
FROM_USER = ("COMMANDLINE", "ENVIRONMENT", "PROMPT")

RecipeOption = Annotated[Optional[str], typer.Option(
    "--recipe", help="Read options from this YAML recipe; options given on the command line win. "
                     "Paths in it are relative to the recipe file.")]
SaveRecipeOption = Annotated[Optional[str], typer.Option(
    "--save-recipe", help="Write the effective recipe of this run to FILE (rerun it with --recipe FILE).")]
MlflowOption = Annotated[Optional[str], typer.Option(
    "--mlflow", help="Also log params, metrics and the bundle to this MLflow tracking URI (default: "
                     "$MLFLOW_TRACKING_URI when set); needs: pip install 'mlcli[mlflow]'.")]

# --------------------------------------------------------------------------------------------- wrapping

def track(app: typer.Typer) -> None:
    """Wrap the registered tracked commands of ``app`` (call after every command is registered)."""
    for info in app.registered_commands:
        if info.name in TRACKED_COMMANDS and not getattr(info.callback, "_mlcli_tracked", False):
            info.callback = tracked(info.callback, info.name, recipes=info.name in RECIPE_COMMANDS)


def tracked(func: Any, name: str, recipes: bool, save_recipe: bool = True) -> Any:
    """``func`` run between the tracker's hooks; with ``recipes``, also --recipe, --mlflow and (unless the
    command has its own, as tune does) --save-recipe."""
    if name not in RECORDED:
        RECORDED.append(name)
    sig = inspect.signature(func, eval_str=True)
    params = [inspect.Parameter("mlcli_ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    added = [("recipe", RecipeOption), ("save_recipe", SaveRecipeOption), ("mlflow", MlflowOption)]
    for p in sig.parameters.values():
        if recipes and p.name == "data":
            params.append(_optional_argument(p))
            params += [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=a)
                       for n, a in added if save_recipe or n != "save_recipe"]
        else:
            params.append(p)

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        ctx = kwargs.pop("mlcli_ctx")
        return run_tracked(func, name, ctx, kwargs)

    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    wrapper._mlcli_tracked = True  # type: ignore[attr-defined]
    return wrapper


def _optional_argument(p: inspect.Parameter) -> inspect.Parameter:
    """DATA becomes optional: a recipe can give it."""
    _, info, *_ = get_args(p.annotation)
    info = copy(info)
    info.help = (info.help or "").rstrip() + " Optional when --recipe gives 'data'."
    return p.replace(annotation=Annotated[Optional[str], info], default=None)


# --------------------------------------------------------------------------------------------- recipe keys

def key_specs(command: Any) -> list:
    """A KeySpec for every option of a Click command that a recipe may set."""
    from mlcli.tracking.recipe import KeySpec

    specs = []
    for p in command.params:
        if not p.name or p.name in NOT_RECIPE_KEYS or getattr(p, "hidden", False):
            continue
        kind = KIND_BY_NAME.get(p.name) or _kind(p)
        longs = [o for o in p.opts if o.startswith("--")] if p.param_type_name == "option" else []
        specs.append(KeySpec(key=RECIPE_KEY.get(p.name, p.name), param=p.name, kind=kind,
                             flag=(longs or p.opts)[0] if p.param_type_name == "option" else "",
                             path="in" if p.name in INPUT_PATHS else "out" if p.name in OUTPUT_PATHS else None,
                             choices=_choices(p), default=p.default))
    return specs


def _annotation(p: Any) -> Any:
    descriptor = getattr(p, "type_descriptor", None)  # typer >= 0.29 (its own click)
    return getattr(descriptor, "annotation", None)


def _kind(p: Any) -> str:
    """int | float | bool | list | str, from the parameter's Python type."""
    import typing

    ann = _annotation(p)
    if getattr(p, "multiple", False) or (p.nargs or 1) != 1 or typing.get_origin(ann) in (list, tuple):
        return "list"
    if getattr(p, "is_flag", False) or ann is bool:
        return "bool"
    return {int: "int", float: "float"}.get(ann, "str")


def _choices(p: Any) -> tuple[str, ...]:
    descriptor = getattr(p, "type_descriptor", None)
    choices = getattr(descriptor, "choices", None) if descriptor is not None else None
    return tuple(str(c) for c in choices) if choices else ()


def _from_user(ctx: Any, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in FROM_USER


def _other_recipe_keys(ctx: Any, command: str) -> dict[str, set[str]]:
    group, root = ctx.find_root().command, ctx.find_root()
    out = {}
    for other in RECIPE_COMMANDS:
        cmd = group.get_command(root, other) if other != command and hasattr(group, "get_command") else None
        if cmd is not None:
            out[other] = {s.key for s in key_specs(cmd)}
    return out


def apply_recipe(ctx: Any, kwargs: dict[str, Any], path: str, specs: list, command: str) -> Any:
    """Fill ``kwargs`` from the recipe at ``path`` wherever the command line left an option unset."""
    from mlcli.errors import ConfigError
    from mlcli.tracking.recipe import check_input_path, read_recipe, resolve

    recipe = read_recipe(path)
    values = resolve(recipe, command, specs, _other_recipe_keys(ctx, command))
    by_param = {s.param: s for s in specs}
    click_params = {p.name: p for p in ctx.command.params}
    for name, value in values.items():
        if _from_user(ctx, name):
            continue
        spec = by_param[name]
        if spec.path == "in":
            check_input_path(recipe, spec, value)
        try:
            converted = click_params[name].process_value(ctx, value)
        except typer.BadParameter as exc:
            raise ConfigError(f"{recipe.where(spec.key)}: {exc.message}") from None
        kwargs[name] = list(converted) if isinstance(converted, tuple) else converted
    return recipe


# --------------------------------------------------------------------------------------------- command lines

def to_argv(command: str, click_params: list, values: dict[str, Any]) -> list[str]:
    """The command line that gives ``values`` (parameter name -> value) to ``command``."""
    args: list[str] = []
    opts: list[str] = []
    for p in click_params:
        value = values.get(p.name)
        if value is None or value in ([], ()):
            continue
        if p.param_type_name == "argument":
            args.append(str(value))
            continue
        longs = [o for o in p.opts if o.startswith("--")]
        flag = (longs or p.opts)[0]
        if getattr(p, "is_flag", False):
            if value is True and value != p.default:
                opts.append(flag)
            elif value is False and p.secondary_opts and value != p.default:
                opts.append(p.secondary_opts[0])
        elif getattr(p, "multiple", False):
            for item in value:
                opts += [flag, str(item)]
        elif value != p.default:  # an option at its default adds nothing (--plot-format png)
            opts += [flag, str(value)]
    return [command, *args, *opts]


def command_line(argv: list[str]) -> str:
    return shlex.join(["mlcli", *argv])


# --------------------------------------------------------------------------------------------- running

def run_tracked(func: Any, name: str, ctx: Any, kwargs: dict[str, Any]) -> Any:
    """Run a command's callback between the tracker's start and end (mlcli.tracking.tracker).

    The callback returns its result document; a document that says ``interrupted`` ends the run with exit
    code 130 (143 after SIGTERM) once it is recorded as interrupted (cv prints its partial leaderboard first).
    """
    from mlcli.cli.state import state
    from mlcli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, ConfigError, MlcliError, one_line
    from mlcli.render.output import Notifier
    from mlcli.tracking.tracker import RunInfo, make_tracker, mlflow_target

    notify = Notifier(state.quiet)
    given = dict(kwargs)  # as parsed, before the recipe fills anything
    recipe_path = kwargs.pop("recipe", None)
    save_path = kwargs.pop("save_recipe", None)
    mlflow_uri = kwargs.pop("mlflow", None)
    specs = key_specs(ctx.command)
    if recipe_path:
        apply_recipe(ctx, kwargs, recipe_path, specs, name)
    if name in RECIPE_COMMANDS and kwargs.get("data") is None:
        raise ConfigError(f"no data file: give it as mlcli {name} DATA, or as 'data:' in a recipe with --recipe FILE")
    if save_path:
        _check_save_path(save_path)
    uri = mlflow_target(mlflow_uri, notify)
    shown = {p.name: given.get(p.name) for p in ctx.command.params if p.name in given and _from_user(ctx, p.name)}
    line = command_line(to_argv(name, ctx.command.params, shown))
    tracker = make_tracker(RunInfo(name, line, kwargs, specs, notify, rerun_of=ctx.meta.get("mlcli.rerun_of")),
                           save_recipe=save_path, mlflow_uri=uri)
    tracker.start()
    status, error = "failed", None
    t0 = time.perf_counter()
    try:
        doc = func(**kwargs)
        interrupted = isinstance(doc, dict) and bool(doc.get("interrupted"))
        tracker.run.doc = doc
        if interrupted:
            status = "interrupted"
            raise typer.Exit(EXIT_TERMINATED if state.terminated else EXIT_INTERRUPTED)
        tracker.result(doc)
        status = "finished"
    except typer.Exit as exc:
        if exc.exit_code not in (0, None):
            status = "interrupted" if exc.exit_code in (EXIT_INTERRUPTED, EXIT_TERMINATED) else "failed"
            raise
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except MlcliError as exc:
        error = one_line(exc)
        raise
    except BaseException as exc:
        error = f"{type(exc).__name__}: {one_line(exc)}"
        raise
    finally:
        tracker.end(status, error, time.perf_counter() - t0)


def _check_save_path(path: str) -> None:
    from pathlib import Path

    from mlcli.errors import ConfigError

    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"--save-recipe {path} is a directory; give a file name such as {p / 'recipe.yaml'}")
    if not p.resolve().parent.is_dir():
        raise ConfigError(f"--save-recipe {path}: directory {p.parent} does not exist")
