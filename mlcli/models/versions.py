"""The versions of the libraries a run or a bundle depends on, under their pip distribution names."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable

from mlcli.models.registry import MODELS

# import name -> the distributions that may provide it, most likely first (models add theirs from the registry)
_CORE = {"numpy": ("numpy",), "pandas": ("pandas",), "sklearn": ("scikit-learn",), "joblib": ("joblib",),
         "imblearn": ("imbalanced-learn",), "torch": ("torch",)}


def distributions() -> dict[str, tuple[str, ...]]:
    known = dict(_CORE)
    for spec in MODELS.values():
        known.setdefault(spec.package, tuple(dict.fromkeys((spec.install, spec.package))))
    return known


def library_versions(modules: Iterable[str] | None = None) -> dict[str, str]:
    """mlcli, Python and the version of each library in ``modules`` (import names), or by default of every
    known library this process has imported. Keyed by the distribution that is installed (xgboost-cpu or
    xgboost); a library that is not installed is left out."""
    from importlib import metadata

    from mlcli import __version__

    known = distributions()
    wanted = [m for m in known if m in sys.modules] if modules is None else list(dict.fromkeys(modules))
    out = {"mlcli": __version__, "python": platform.python_version()}
    for module in wanted:
        for dist in known.get(module, (module,)):
            try:
                out[dist] = metadata.version(dist)
                break
            except metadata.PackageNotFoundError:
                continue
    return out
