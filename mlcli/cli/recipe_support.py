"""Recipes and run history for the commands, applied by one generic wrapper.

:func:`track` wraps the registered ``train``, ``cv`` and ``evaluate`` callbacks. For ``train`` and ``cv`` it
adds ``--recipe``, ``--save-recipe`` and ``--mlflow`` and makes the DATA argument optional. The recipe keys
are derived from the command's own options (a ``KeySpec`` per option), so an option added to a command is a
recipe key at once. A recipe value fills an option only when the command line did not give it
(``ctx.get_parameter_source``); it is converted and checked by the option itself (``process_value``), the
same path a command-line value takes.

Every tracked run is recorded in the run history; a failure to record only warns. Commands hand their
result document over with :func:`record_result`.
"""

from __future__ import annotations

import functools
import inspect
import shlex
import time
from copy import copy
from typing import Annotated, Any, Optional, get_args

import typer

RECIPE_COMMANDS = ("train", "cv")
TRACKED_COMMANDS = ("train", "cv", "evaluate")
NOT_RECIPE_KEYS = {"fmt", "quiet", "debug", "recipe", "save_recipe", "mlflow", "mlcli_ctx"}
RECIPE_KEY = {"param": "params"}  # parameter name -> recipe key, where they differ
KIND_BY_NAME = {"param": "params", "grid": "grid"}  # key=value options that a recipe writes as mappings
INPUT_PATHS = {"data", "test", "base_model", "bundle"}
OUTPUT_PATHS = {"out", "oof", "save_best"}
FROM_USER = ("COMMANDLINE", "ENVIRONMENT", "PROMPT")

RecipeOption = Annotated[Optional[str], typer.Option(
    "--recipe", help="Read options from this YAML recipe; options given on the command line win. "
                     "Paths in it are relative to the recipe file.")]
SaveRecipeOption = Annotated[Optional[str], typer.Option(
    "--save-recipe", help="Write the effective recipe of this run to FILE (rerun it with --recipe FILE).")]
MlflowOption = Annotated[Optional[str], typer.Option(
    "--mlflow", help="Also log params, metrics and the bundle to this MLflow tracking URI (default: "
                     "$MLFLOW_TRACKING_URI when set); needs: pip install 'mlcli[mlflow]'.")]

_results: list[dict[str, Any]] = []  # one frame per tracked command running in this process


def record_result(doc: dict[str, Any]) -> None:
    """Called by a tracked command with its result document (metrics, bundle ...) for the run history."""
    if _results:
        _results[-1]["doc"] = doc


# --------------------------------------------------------------------------------------------- wrapping

def track(app: typer.Typer) -> None:
    """Wrap the registered tracked commands of ``app`` (call after every command is registered)."""
    for info in app.registered_commands:
        if info.name in TRACKED_COMMANDS and not getattr(info.callback, "_mlcli_tracked", False):
            info.callback = tracked(info.callback, info.name, recipes=info.name in RECIPE_COMMANDS)


def tracked(func: Any, name: str, recipes: bool) -> Any:
    sig = inspect.signature(func, eval_str=True)
    params = [inspect.Parameter("mlcli_ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for p in sig.parameters.values():
        if recipes and p.name == "data":
            params.append(_optional_argument(p))
            params += [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=a)
                       for n, a in (("recipe", RecipeOption), ("save_recipe", SaveRecipeOption),
                                    ("mlflow", MlflowOption))]
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
    from mlcli.pipeline.recipe import KeySpec

    specs = []
    for p in command.params:
        if not p.name or p.name in NOT_RECIPE_KEYS or getattr(p, "hidden", False):
            continue
        kind = KIND_BY_NAME.get(p.name) or _kind(p)
        longs = [o for o in p.opts if o.startswith("--")] if p.param_type_name == "option" else []
        specs.append(KeySpec(key=RECIPE_KEY.get(p.name, p.name), param=p.name, kind=kind,
                             flag=(longs or p.opts)[0] if p.param_type_name == "option" else "",
                             path="in" if p.name in INPUT_PATHS else "out" if p.name in OUTPUT_PATHS else None,
                             choices=_choices(p)))
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
    from mlcli.pipeline.recipe import check_input_path, read_recipe, resolve

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
        else:
            opts += [flag, str(value)]
    return [command, *args, *opts]


def command_line(argv: list[str]) -> str:
    return shlex.join(["mlcli", *argv])


# --------------------------------------------------------------------------------------------- running

class _Plain:
    """A Notifier for plain text: paths and install lines ('mlcli[mlflow]') hold brackets, not Rich markup."""

    def __init__(self, notify: Any):
        from rich.markup import escape

        self._notify, self._escape = notify, escape

    def __call__(self, message: str) -> None:
        self._notify(self._escape(message))

    def warn(self, message: str) -> None:
        self._notify.warn(self._escape(message))


def plain_notifier(quiet: bool) -> Any:
    from mlcli.render.output import Notifier

    return _Plain(Notifier(quiet))


def run_tracked(func: Any, name: str, ctx: Any, kwargs: dict[str, Any]) -> Any:
    from mlcli.cli.state import state
    from mlcli.errors import EXIT_INTERRUPTED, ConfigError, MlcliError

    notify = plain_notifier(state.quiet)
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
    mlflow_target = _mlflow_target(mlflow_uri, notify)

    shown = {p.name: given.get(p.name) for p in ctx.command.params if p.name in given and _from_user(ctx, p.name)}
    recorder = Recorder(name, notify)
    recorder.start(command_line(to_argv(name, ctx.command.params, shown)), kwargs, specs,
                   rerun_of=ctx.meta.get("mlcli.rerun_of"))
    frame: dict[str, Any] = {}
    _results.append(frame)
    status, error = "failed", None
    t0 = time.perf_counter()
    try:
        try:
            func(**kwargs)
        except typer.Exit as exc:
            if exc.exit_code not in (0, None):
                raise
        status = "finished"
        doc = frame.get("doc")
        if save_path:
            _save_recipe(save_path, name, kwargs, specs, doc, notify)
        if mlflow_target and doc is not None:
            recorder.details["mlflow_run"] = _log_mlflow(mlflow_target, name, recorder, kwargs, specs, doc, notify)
    except typer.Exit as exc:
        status = "interrupted" if exc.exit_code == EXIT_INTERRUPTED else "failed"
        raise
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except MlcliError as exc:
        error = " ".join(str(exc).split())
        raise
    except BaseException as exc:
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        raise
    finally:
        _results.pop()
        recorder.finish(status, frame.get("doc"), error, time.perf_counter() - t0, kwargs.get("data"))


def effective_recipe(name: str, kwargs: dict[str, Any], specs: list, doc: dict[str, Any] | None,
                     base: Any = None) -> dict[str, Any]:
    """The recipe that repeats this run: every option set, with the target the run chose."""
    from mlcli.pipeline.recipe import recipe_document

    recipe = recipe_document(name, kwargs, specs, base)
    if doc and doc.get("target") and "target" in {s.key for s in specs} and "target" not in recipe:
        recipe["target"] = doc["target"]
    return recipe


def _check_save_path(path: str) -> None:
    from pathlib import Path

    from mlcli.errors import ConfigError

    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"--save-recipe {path} is a directory; give a file name such as {p / 'recipe.yaml'}")
    if not p.resolve().parent.is_dir():
        raise ConfigError(f"--save-recipe {path}: directory {p.parent} does not exist")


def _save_recipe(path: str, name: str, kwargs: dict[str, Any], specs: list, doc: dict[str, Any] | None,
                 notify: Any) -> None:
    from datetime import datetime
    from pathlib import Path

    from mlcli import __version__
    from mlcli.pipeline.recipe import dump_recipe, write_recipe

    base = Path(path).resolve().parent
    recipe = effective_recipe(name, kwargs, specs, doc, base)
    header = (f"mlcli {name} recipe, written by mlcli {__version__} on {datetime.now():%Y-%m-%d %H:%M}\n"
              f"run it with: mlcli {name} --recipe {path}  (options on the command line win)")
    write_recipe(path, dump_recipe(recipe, header))
    if recipe.get("data") == "-":
        notify.warn(f"the data came from stdin, so recipe {path} reads stdin too ('data: -')")
    notify(f"recipe saved to {path}")


# --------------------------------------------------------------------------------------------- history

class Recorder:
    """Writes one run to the history; never lets a history problem fail the run (it warns instead)."""

    def __init__(self, command: str, notify: Any):
        self.command = command
        self.notify = notify
        self.run_id: int | None = None
        self.details: dict[str, Any] = {}
        self.specs: list = []
        self.kwargs: dict[str, Any] = {}

    def _warn(self, exc: BaseException) -> None:
        self.notify.warn(f"run not recorded in the history: {' '.join(str(exc).split())}")

    def start(self, line: str, kwargs: dict[str, Any], specs: list, rerun_of: int | None = None) -> None:
        self.specs, self.kwargs = specs, kwargs
        try:
            from mlcli import __version__
            from mlcli.pipeline import history as H

            if not H.enabled():
                return
            if rerun_of is not None:
                self.details["rerun_of"] = rerun_of
            recipe = effective_recipe(self.command, kwargs, specs, None)
            with H.History() as h:
                self.run_id = h.start(self.command, line, data=recipe.get("data"), seed=kwargs.get("seed"),
                                      recipe=recipe, mlcli_version=__version__, details=self.details or None)
        except Exception as exc:  # noqa: BLE001 - history must never fail the run
            self._warn(exc)

    def finish(self, status: str, doc: dict[str, Any] | None, error: str | None, seconds: float,
               data: str | None) -> None:
        if self.run_id is None:
            return
        try:
            from mlcli.pipeline import history as H

            fields = H.summarize(doc)
            self.details.update(fields.pop("details", {}))
            recipe = effective_recipe(self.command, self.kwargs, self.specs, doc)
            with H.History() as h:
                h.finish(self.run_id, status, duration=round(seconds, 3), error=error, recipe=recipe,
                         data_fingerprint=H.file_fingerprint(data), libraries=H.library_versions(),
                         details=self.details or None, **fields)
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)


# --------------------------------------------------------------------------------------------- MLflow

def _mlflow_target(uri: str | None, notify: Any) -> str | None:
    import os

    from mlcli.pipeline.mlflow_log import available, require

    if uri:
        require()
        return uri
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if not env:
        return None
    if not available():
        notify.warn("MLFLOW_TRACKING_URI is set but mlflow is not installed, so this run is not logged to "
                    "MLflow: pip install 'mlcli[mlflow]'")
        return None
    return env


def _log_mlflow(uri: str, name: str, recorder: Recorder, kwargs: dict[str, Any], specs: list,
                doc: dict[str, Any], notify: Any) -> str | None:
    from mlcli.pipeline import history as H
    from mlcli.pipeline.mlflow_log import log_run
    from mlcli.render.output import library_chatter_to_stderr

    fields = H.summarize(doc)
    try:
        with library_chatter_to_stderr():
            run_id = log_run(uri, name, effective_recipe(name, kwargs, specs, doc), fields.get("metrics") or {},
                             fields.get("bundle"), history_id=recorder.run_id, model=fields.get("model"))
    except Exception as exc:  # noqa: BLE001 - the model is trained and saved: warn, do not fail
        notify.warn(f"not logged to MLflow at {uri}: {' '.join(str(exc).split())[:300]}")
        return None
    notify(f"logged to MLflow at {uri} (run {run_id})")
    return run_id
