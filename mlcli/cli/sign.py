"""mlcli sign: sign a verified bundle with your team's key."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli import options as o
from mlcli.cli.state import state


def sign(
    bundle: Annotated[str, typer.Argument(help="Model bundle directory.")],
    key_file: Annotated[Optional[str], typer.Option("--key-file", help="File holding the signing key (default: "
                                                    "$MLCLI_SIGNING_KEY_FILE, or the key in $MLCLI_SIGNING_KEY)."
                                                    )] = None,
    fmt: o.Format = None,
    quiet: o.Quiet = False,
    debug: o.Debug = False,
) -> dict:
    """Sign a bundle you trust (HMAC-SHA256 over mlcli.json and so over every file's sha256), after checking it
    as loading does. With MLCLI_REQUIRE_SIGNATURE=1, only bundles signed with your key load.

    Example: MLCLI_SIGNING_KEY_FILE=~/.mlcli-key mlcli sign models/titanic-xgboost
    """
    from mlcli.experiments.sign import sign_bundle
    from mlcli.render.emit import emit
    from mlcli.render.output import Notifier

    doc = sign_bundle(bundle, key_file, notify=Notifier(state.quiet))
    emit("sign", doc, fmt)
    return doc


def register(app: typer.Typer) -> None:
    app.command("sign")(sign)
