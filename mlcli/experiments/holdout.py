"""The rows a model is fitted on and the rows it is measured on: a stratified split of --test-size (classes
of a single row kept in the training part, multiclass), or --test FILE checked against the training schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import (
    Dataset,
    Notify,
    check_class_sizes,
    drop_missing_target,
    encode_target,
    quiet,
    single_row_classes,
    tell,
    warn,
)
from mlcli.data.read import read_table
from mlcli.data.schema import check_against_schema
from mlcli.errors import DataError


@dataclass
class Holdout:
    """The rows a model is fitted on and the rows it is measured on (a split of the data, or --test FILE)."""

    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray


class _Keeping:
    """A notifier that tells as ``notify`` does and keeps every warning in ``kept`` (for the bundle, the JSON)."""

    def __init__(self, notify: Notify, kept: list[str]):
        self.notify, self.kept = notify, kept

    def __call__(self, line: str) -> None:
        self.notify(line)

    def warn(self, message: str) -> None:
        self.kept.append(message)
        warn(self.notify, message)


def holdout(req: Any, ds: Dataset, y: np.ndarray, classes: list[Any], notify: Notify = quiet) -> Holdout:
    """--test FILE checked against the training schema (what reading it found told, and kept with the data's
    warnings), else a (stratified) split of --test-size."""
    from sklearn.model_selection import train_test_split

    if req.test_path:
        test_df = read_table(req.test_path, sep=req.data.sep, encoding=req.data.encoding)
        ds.warnings.extend(tell(test_df, notify))
        if ds.schema.target not in test_df.columns:
            raise DataError(f"--test file {req.test_path} has no target column '{ds.schema.target}'")
        test_df, _ = drop_missing_target(test_df, ds.schema.target)
        X_test = check_against_schema(test_df, ds.schema, f"--test file {req.test_path}",
                                      notify=_Keeping(notify, ds.warnings))
        return Holdout(ds.X, X_test, y, encode_target(test_df[ds.schema.target], ds.task, classes))
    stratify = None
    once = _seen_once(ds, y, classes, notify)
    if once is not None:  # multiclass: classes of one row are learned from, never held out
        rest = holdout(req, _without(ds, once), y[~once], classes)
        X_train = pd.concat([rest.X_train, ds.X[once]])
        return Holdout(X_train, rest.X_test, np.concatenate([rest.y_train, y[once]]), rest.y_test)
    if ds.task != "regression":
        check_class_sizes(y, classes, 2, "a stratified hold-out split")
        n_classes = len(np.unique(y))
        n_test = int(np.ceil(req.test_size * len(y)))
        if n_test < n_classes or len(y) - n_test < n_classes:
            raise DataError(f"{len(y)} rows are too few for a stratified split with --test-size "
                            f"{req.test_size} over {n_classes} classes; give a larger --test-size or more rows")
        stratify = y
    elif len(y) < 5:
        raise DataError(f"only {len(y)} rows: too few to hold out a test set")
    X_train, X_test, y_train, y_test = train_test_split(ds.X, y, test_size=req.test_size,
                                                        random_state=req.model.seed, stratify=stratify)
    return Holdout(X_train, X_test, y_train, y_test)


def _seen_once(ds: Dataset, y: np.ndarray, classes: list[Any], notify: Notify) -> np.ndarray | None:
    """Multiclass with classes of a single row (dataset.single_row_classes): the mask of those rows, told in a
    warning kept with the data's; None otherwise (check_class_sizes then says what is wrong)."""
    found = single_row_classes(ds, y, classes)
    if found is None:
        return None
    single, names = found
    line = (f"{len(single)} class(es) with a single row ({names}): kept in the training rows, so the model "
            "learns them, but none is held out, so the held-out metrics do not score them")
    ds.warnings.append(line)
    warn(notify, line)
    return np.isin(y, single)


def _without(ds: Dataset, rows: np.ndarray) -> Dataset:
    """A shallow copy of ``ds`` whose feature frame leaves ``rows`` out (for the split of the other rows)."""
    from copy import copy

    rest = copy(ds)
    rest.X = ds.X[~rows]
    return rest
