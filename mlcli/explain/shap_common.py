"""The optional ``shap`` library, imported where SHAP needs it, with the install line when it is missing."""

from __future__ import annotations

from typing import Any

from mlcli.errors import MissingDependency


def import_shap(purpose: str) -> Any:
    try:
        import shap
    except ImportError as exc:
        raise MissingDependency("shap", purpose, "explain") from exc
    return shap
