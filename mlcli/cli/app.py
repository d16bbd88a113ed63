"""The mlcli application and its single error boundary (errors -> one line on stderr + exit code)."""

from __future__ import annotations

import signal
import sys
import traceback

import typer
from typer.core import TyperGroup

from mlcli import __version__
from mlcli.cli.state import state
from mlcli.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    MlcliError,
    Terminated,
    one_line,
    redact,
)

# typer >= 0.29 vendors its own click: take its exception classes from typer's public names
_CLICK_EXCEPTION = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_PASS_THROUGH = (typer.Exit, typer.Abort)


def _echo_err(line: str) -> None:
    """One line on stderr; on a terminal wrapped between words at its width (the terminal would cut words),
    piped or redirected left whole."""
    from mlcli.render.output import stderr_console, wrapped_for

    typer.echo(wrapped_for(stderr_console(), line), err=True)


def _error(message: object, code: int = EXIT_USAGE) -> typer.Exit:
    """Print the one line of a user error (credentials in URLs redacted); the Exit to raise."""
    _echo_err(f"mlcli: error: {redact(one_line(message))}")
    return typer.Exit(code)


def _usage_error(exc: Exception) -> typer.Exit:
    """Click's usage errors (a bad option value, a missing argument, an unknown option or command) as the same
    one line as every other user error: click's own message, without its 'Usage:' and 'Try --help' lines."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # `mlcli` alone: the help is the answer, exit 2 as click does
        typer.echo(exc.format_message(), err=True)
        return typer.Exit(EXIT_USAGE)
    return _error(exc.format_message())


def _stopped(exc: KeyboardInterrupt) -> typer.Exit:
    if isinstance(exc, Terminated):
        typer.echo("mlcli: terminated", err=True)
        return typer.Exit(EXIT_TERMINATED)
    typer.echo("mlcli: interrupted", err=True)
    return typer.Exit(EXIT_INTERRUPTED)


class MlcliGroup(TyperGroup):
    """Turns every exception raised by a command into one actionable line and an exit code (DESIGN §2)."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:  # the group's own options and arguments: `mlcli --bogus`, `mlcli` alone
            return super().make_context(info_name, args, parent=parent, **extra)
        except _CLICK_EXCEPTION as exc:
            raise _usage_error(exc) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except _CLICK_EXCEPTION as exc:  # parsing the command's options, or a typer.BadParameter it raised
            if state.debug:
                traceback.print_exc()
            raise _usage_error(exc) from None
        except MlcliError as exc:
            if state.debug:
                traceback.print_exc()
            raise _error(exc, exc.exit_code) from None
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
            raise _stopped(exc) from None
        except BrokenPipeError:  # e.g. `mlcli predict ... | head`
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:  # noqa: BLE001 - the boundary
            if state.debug:
                traceback.print_exc()
            else:
                _echo_err(f"mlcli: internal error: {type(exc).__name__}: {redact(one_line(exc))} "
                          "(run again with --debug for the traceback)")
            raise typer.Exit(EXIT_INTERNAL) from None


app = typer.Typer(
    cls=MlcliGroup,
    name="mlcli",
    help=("A command-line workbench for machine learning on tabular and text data: supervised models, clustering, "
          "reduction, anomalies."),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~0.2 s of imports on every --help
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Show the version and exit.")) -> None:
    """A command-line workbench for machine learning on tabular and text data: supervised models, clustering,
    reduction, anomalies."""
    state.reset()


def _register() -> None:
    from mlcli.cli import balance, cv, embed, evaluate, explain, inspect, models, sign, train

    for module in (train, evaluate, models, cv, balance, embed, explain, inspect, sign):
        module.register(app)
    from mlcli.cli import report

    report.register(app)  # untracked: it reads a bundle and writes one HTML file
    from mlcli.cli import auto, tune

    tune.register(app)  # tracked by itself: history like cv, and its --save-recipe writes a train recipe
    auto.register(app)  # tracked by itself, like tune
    from mlcli.cli import anomalies, cluster, reduce

    cluster.register(app)  # tracked by itself, with --recipe
    reduce.register(app)
    anomalies.register(app)
    from mlcli.cli import runs, tracking

    runs.register(app)
    tracking.track(app)  # --recipe/--save-recipe/--mlflow on train and cv; run history of train, cv, evaluate


_register()


def _terminate(signum, frame) -> None:
    """SIGTERM: raise where Ctrl-C would, so that every clean-up runs (temporary files, cv's workers)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM while cleaning up ends the process at once
    state.terminated = True
    raise Terminated()


def install_signal_handlers() -> None:
    """SIGTERM handled like Ctrl-C (exit 143); called by main() in the main thread of the process."""
    state.terminated = False
    signal.signal(signal.SIGTERM, _terminate)


def main() -> None:
    install_signal_handlers()
    try:
        app(prog_name="mlcli")
    except KeyboardInterrupt as exc:  # one that came before or after a command ran
        raise SystemExit(_stopped(exc).exit_code) from None
    except SystemExit as exc:  # cv stops with 130 after printing its partial leaderboard; SIGTERM makes it 143
        if exc.code == EXIT_INTERRUPTED and state.terminated:
            raise SystemExit(EXIT_TERMINATED) from None
        raise
