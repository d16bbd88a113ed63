"""The corpus: genuine base bundles trained once (through the in-process CLI, as a user makes them), and the
attack bundles of cases.py built from copies of them, each built once and only when a test asks for it.

Layout under the corpus root (a module-scoped temporary directory)::

    data/tab.csv, data/reviews.csv      generated data (labelled), used to train and to run the commands
    tiny-bert/                          the tiny random BERT of conftest, for the text bases
    bases/NAME/                         a genuine bundle per base
    cases/cNNN/a/bundle                 an attack bundle; cases/cNNN/... is the attacker's folder around it
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from . import edits as e
from .cases import CASES, Case, Site
from conftest import cli, review_frame, write_tiny_bert

COMMANDS = ("predict", "evaluate", "explain", "report", "inspect")

# base name -> (data kind, options of mlcli train, or of mlcli auto after "auto"); small data and few rounds:
# the bases only need to be genuine
BASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "logreg": ("tab", ("-m", "logreg")),
    "tree": ("tab", ("-m", "tree", "-p", "max_depth=3")),
    "lightgbm": ("tab", ("-m", "lightgbm", "-p", "n_estimators=5")),
    "xgboost": ("tab", ("-m", "xgboost", "-p", "n_estimators=5")),
    "catboost": ("tab", ("-m", "catboost", "-p", "iterations=5")),
    "transformer": ("text", ("-m", "transformer", "--base-model", "{bert}", "-p", "epochs=1", "-p", "batch_size=16")),
    "embed": ("text", ("-m", "logreg", "--text-features", "embed", "--base-model", "{bert}")),
    # an ensemble of members with boosters (XGBoost and CatBoost: entries with a "member"); chosen on log loss,
    # which rewards blending: on ROC AUC the small-data XGBoost alone is the whole ensemble of these 60 rows
    "ensemble": ("tab", ("auto", "--models", "xgboost,catboost", "--candidates", "2", "--no-tune",
                         "--always-ensemble", "--folds", "2", "-j", "1", "--threads", "1", "--metric", "log_loss")),
}
TARGETS = {"tab": ("--target", "label"), "text": ("--target", "score", "--drop", "id")}


def tab_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """GENERATED: two numeric columns, a categorical one, a learnable yes/no label."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n).round(4), rng.normal(size=n).round(4)
    color = rng.choice(["red", "green", "blue"], size=n)
    label = np.where(2 * x1 + (color == "red") - 0.3 + rng.normal(scale=0.5, size=n) > 0, "yes", "no")
    return pd.DataFrame({"x1": x1, "color": color, "x2": x2, "label": label})


@dataclass(frozen=True)
class Base:
    name: str
    bundle: Path
    data: Path


@dataclass(frozen=True)
class Built:
    case: Case
    bundle: Path
    data: Path
    names: tuple[str, ...]  # the error line names one of these


class Corpus:
    def __init__(self, root: Path):
        self.root = root
        self._bases: dict[str, Base] = {}
        self._built: dict[str, Built | BaseException] = {}
        self._bert: Path | None = None

    # ------------------------------------------------------------------ genuine material

    def tiny_bert(self) -> Path:
        if self._bert is None:
            self._bert = write_tiny_bert(self.root / "tiny-bert")
        return self._bert

    def data(self, kind: str) -> Path:
        path = self.root / "data" / ("tab.csv" if kind == "tab" else "reviews.csv")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            frame = tab_frame() if kind == "tab" else review_frame(40).drop(columns=["stars"])
            frame.to_csv(path, index=False)
        return path

    def base(self, name: str) -> Base:
        if name not in self._bases:
            kind, options = BASES[name]
            data = self.data(kind)
            folder = self.root / "bases" / name
            places = {"bert": str(self.tiny_bert())} if kind == "text" else {}
            command, options = (options[0], options[1:]) if options[0] == "auto" else ("train", options)
            argv = [command, str(data), *TARGETS[kind], *(o.format(**places) for o in options),
                    "--out", str(folder), "--no-leak-check", "--quiet", "--format", "json"]
            with self._isolated():
                result = cli(*argv)
            if result.exit_code != 0 or not (folder / e.META).is_file():
                raise RuntimeError(f"the genuine {name} bundle could not be trained (exit {result.exit_code}): "
                                   f"{result.stderr.strip()[-2000:]}")
            self._bases[name] = Base(name, folder, data)
        return self._bases[name]

    @contextlib.contextmanager
    def _isolated(self) -> Iterator[None]:
        """Training writes its run history and temporary files here, not in the test's own directory."""
        work = self.root / "work"
        work.mkdir(exist_ok=True)
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(work)
            mp.setenv("MLCLI_HOME", str(self.root / "home"))
            mp.setenv("MLCLI_THREADS", "1")
            yield

    # ------------------------------------------------------------------ attack bundles

    def build(self, case: Case) -> Built:
        """The attack bundle of ``case`` (built on first use); a case that cannot apply here is skipped."""
        if case.id not in self._built:
            try:
                self._built[case.id] = self._build(case)
            except BaseException as exc:  # noqa: BLE001 - remembered, raised again for every command
                self._built[case.id] = exc
        built = self._built[case.id]
        if isinstance(built, BaseException):
            raise built
        return built

    def _build(self, case: Case) -> Built:
        base = self.base(case.base)
        # a neutral folder name: an error line that shows the bundle's path must not name the culprit by chance
        case_dir = self.root / "cases" / f"c{list(CASES).index(case.id):03d}"
        if case_dir.exists():
            shutil.rmtree(case_dir)
        bundle = case_dir / "a" / "bundle"
        bundle.parent.mkdir(parents=True)
        e.copy_tree(base.bundle, bundle)
        site = Site(bundle, case_dir, self)
        case.build(site)
        return Built(case, bundle, base.data, case.names + tuple(site.names))


def command_argv(command: str, bundle: Path, data: Path | str, out: Path) -> list[str]:
    """The command line of one of the five commands that read a bundle."""
    if command == "inspect":
        return ["inspect", str(bundle), "--format", "json"]
    if command == "report":
        return ["report", str(bundle), str(data), "-o", str(out)]
    return [command, str(bundle), str(data)]
