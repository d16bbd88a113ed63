"""The mlcli application and its single error boundary (errors -> one line on stderr + exit code)."""

from __future__ import annotations

import sys
import traceback

import typer
from typer.core import TyperGroup

from mlcli import __version__
from mlcli.cli.state import state
from mlcli.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, MlcliError, one_line

# typer >= 0.29 vendors its own click: take its exception classes from typer's public names
_CLICK_EXCEPTION = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")
_PASS_THROUGH = (typer.Exit, typer.Abort, _CLICK_EXCEPTION)


class MlcliGroup(TyperGroup):
    """Turns every exception raised by a command into one actionable line and an exit code (DESIGN §2)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except MlcliError as exc:
            if state.debug:
                traceback.print_exc()
            typer.echo(f"mlcli: error: {one_line(exc)}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("mlcli: interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:  # e.g. `mlcli predict ... | head`
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:  # noqa: BLE001 - the boundary
            if state.debug:
                traceback.print_exc()
            else:
                typer.echo(f"mlcli: internal error: {type(exc).__name__}: {one_line(exc)} "
                           "(run again with --debug for the traceback)", err=True)
            raise typer.Exit(EXIT_INTERNAL) from None


app = typer.Typer(
    cls=MlcliGroup,
    name="mlcli",
    help="A command-line workbench for supervised machine learning on tabular and text data.",
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
    """A command-line workbench for supervised machine learning on tabular and text data."""
    state.reset()


def _register() -> None:
    from mlcli.cli import balance, cv, embed, evaluate, explain, models, train

    for module in (train, evaluate, models, cv, balance, embed, explain):
        module.register(app)
    from mlcli.cli import runs, tracking

    runs.register(app)
    tracking.track(app)  # --recipe/--save-recipe/--mlflow on train and cv; run history of train, cv, evaluate


_register()


def main() -> None:
    try:
        app(prog_name="mlcli")
    except KeyboardInterrupt:
        typer.echo("mlcli: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
