"""The folds every candidate shares: stratified, grouped or plain, repeated with new shuffles."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import Dataset, Notify, encode_classes, quiet, single_row_classes, warn
from mlcli.data.schema import Schema, prepare_frame
from mlcli.errors import ConfigError, DataError, did_you_mean, quote_list


@dataclass
class Split:
    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def make_splits(y: np.ndarray, task: str, classes: list[Any], folds: int, repeats: int, seed: int,
                groups: np.ndarray | None = None, group_column: str | None = None, *, fewer_ok: bool = False,
                notify: Notify = quiet) -> list[Split]:
    """The folds every candidate shares. Repeat r shuffles with seed + r, so sklearn reproduces them.

    ``fewer_ok`` (the fold count is a default, not the user's): a class with fewer rows than ``folds`` but at
    least 2 gives as many folds as it has rows, with a notice, instead of an error (the gauntlet's zoo: 3
    amphibians of 80 animals)."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}")
    if repeats < 1:
        raise ConfigError(f"--repeats must be at least 1, got {repeats}")
    classify = task != "regression"
    if groups is not None:
        n_groups = len(pd.unique(groups))
        if folds > n_groups:
            raise DataError(f"--folds {folds} is more than the {n_groups} distinct values of the --groups column "
                            f"'{group_column}'; use --folds {n_groups} or fewer")
    elif classify:
        counts = np.bincount(y, minlength=len(classes))
        smallest = int(np.argmin(counts))
        if folds > counts[smallest] >= 2 and fewer_ok:
            notify(f"{folds} folds need {folds} rows of every class and '{classes[smallest]}' has "
                   f"{counts[smallest]}: {counts[smallest]} folds instead (--folds to choose)")
            folds = int(counts[smallest])
        if folds > counts[smallest]:
            hint = (f"use --folds {counts[smallest]} or fewer" if counts[smallest] >= 2 else
                    "remove or merge that class")
            raise DataError(f"--folds {folds} is more than the {counts[smallest]} row(s) of the smallest class "
                            f"('{classes[smallest]}'); {hint}")
    elif folds > len(y):
        raise DataError(f"--folds {folds} is more than the {len(y)} rows; use --folds {len(y)} or fewer")
    out: list[Split] = []
    for r in range(repeats):
        rs = (seed + r) % 2**32  # a seed near the top of the range wraps round, as numpy needs
        if groups is not None:
            splitter = (StratifiedGroupKFold(folds, shuffle=True, random_state=rs) if classify
                        else GroupKFold(folds, shuffle=True, random_state=rs))
            pieces = splitter.split(np.zeros(len(y)), y, groups)
        else:
            splitter = (StratifiedKFold(folds, shuffle=True, random_state=rs) if classify
                        else KFold(folds, shuffle=True, random_state=rs))
            pieces = splitter.split(np.zeros(len(y)), y)
        for f, (tr, te) in enumerate(pieces):
            out.append(Split(r, f, tr, te))
    return out


def without_single_rows(ds: Dataset, y: np.ndarray, classes: list[Any], what: str, notify: Notify = quiet
                        ) -> tuple[Dataset, np.ndarray, list[Any]]:
    """(data, encoded target, classes) without the rows of multiclass classes seen once (the gauntlet's
    weather events: 1 of 2,476 storms a "marine" event), told in a warning kept with the data's. A class needs
    a row to train on and one to score in every fold: cross-validation cannot keep it, as `train` does, in the
    training rows only, because every row is scored once. Unchanged when there are none, or when fewer than
    three classes would be left (make_splits then says what is wrong)."""
    found = single_row_classes(ds, y, classes)
    if found is None:
        return ds, y, classes
    single, names = found
    line = (f"{len(single)} class(es) with a single row ({names}): left out of {what}, which trains on part of a "
            "class's rows and scores the rest; `train` keeps them in its training rows")
    keep = np.flatnonzero(~np.isin(y, single))

    def rows(part: Any) -> Any:
        return None if part is None else part.iloc[keep].reset_index(drop=True)

    kept = replace(ds, frame=rows(ds.frame), X=rows(ds.X), y=rows(ds.y), warnings=[*ds.warnings, line],
                   synthetic=None if ds.synthetic is None else ds.synthetic[keep])
    warn(notify, line)
    y2, classes2 = encode_classes(kept)
    return kept, y2, classes2


def group_values(ds: Dataset, column: str, notify: Notify = quiet) -> tuple[Dataset, np.ndarray]:
    """The --groups column's values; the column itself is taken out of the features."""
    frame = ds.frame
    if column not in frame.columns:
        raise DataError(f"--groups column '{column}' not found{did_you_mean(column, frame.columns)}; "
                        f"columns are: {quote_list(frame.columns, 20)}")
    if column == ds.schema.target:
        raise DataError(f"--groups column '{column}' is the target; give the column that identifies related rows")
    values = frame[column]
    if values.isna().any():
        raise DataError(f"--groups column '{column}' has {int(values.isna().sum())} missing value(s); "
                        "fill them or drop those rows")
    infos = [replace(c, role="dropped", reason="the --groups column") if c.name == column else c
             for c in ds.schema.columns]
    schema = Schema(ds.schema.target, ds.schema.task, infos)
    if not schema.used:
        raise DataError(f"no feature columns left once the --groups column '{column}' is set aside")
    if any(c.name == column for c in ds.schema.used):
        notify(f"--groups column '{column}' is used to form folds and is not a feature")
    ds = replace(ds, schema=schema, X=prepare_frame(frame, schema))
    return ds, values.astype(str).to_numpy()
