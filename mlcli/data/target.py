"""Which column is the target, and the task it makes (binary, multiclass, regression).

The rule, in order (documented in the README):

1. ``--target`` names it (case-insensitive).
2. A column named like a label — the names public datasets use (target, label, class, outcome, survived,
   churn, default, fraud, diagnosis, income, price, saleprice, quality, species, ...), compared without case
   or separators (``Sale_Price`` is ``saleprice``) — that could be a target (not an identifier, free text or
   a date; a constant one is chosen, and then refused with its reason). The earliest name in
   :data:`LABEL_NAMES` wins.
3. The only column of few levels (text or true/false, at most 50 distinct values, none missing) in a file
   whose other usable columns are all numbers, wherever it stands (a UCI-style file with the letter first) —
   unless the last column holds whole numbers of many values (a count such as bike rentals), which step 4
   then takes.
4. The last column, when it could be a target: numbers or at most 50 levels, and no missing value.
5. Otherwise mlcli does not guess: one line lists the likeliest candidates with their kinds and asks for
   ``--target`` (exit 2).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mlcli.data.roles import infer_role, is_integral
from mlcli.errors import ConfigError, DataError, did_you_mean, quote_list

TASKS = ("binary", "multiclass", "regression")
LABEL_NAMES = (
    "target", "label", "labels", "class", "classes", "y", "outcome", "response", "survived", "survival", "churn",
    "churned", "exited", "attrition", "default", "defaulted", "fraud", "isfraud", "fraudulent", "diagnosis",
    "income", "saleprice", "price", "charges", "salary", "medv", "medianhousevalue", "cnt", "quality", "species",
    "cultivar", "letter", "lettr", "stroke", "heartdisease", "disease", "readmitted", "purchased", "converted",
    "clicked", "approved", "subscribed", "deposit", "grade", "rating",
)
FEW_LEVELS = 50
SMALL_INTEGERS = 30  # a last column of at most this many integer values looks like a feature, not a count
PLAUSIBLE_ROLES = ("numeric", "categorical")
Profiles = dict[str, tuple[str, str, int]]  # column -> (role, reason, distinct values)


def normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def profile_columns(df: pd.DataFrame) -> Profiles:
    """The inferred role of every column (one distinct-value count each), shared with infer_schema."""
    out: Profiles = {}
    for col in df.columns:
        n_unique = int(df[col].nunique())
        role, reason = infer_role(df[col], n_unique)
        out[col] = (role, reason, n_unique)
    return out


def choose_target(df: pd.DataFrame, target: str | None, profiles: Profiles | None = None) -> tuple[str, str]:
    """Return (target column, how it was chosen); see the module docstring for the rule."""
    if target is not None:
        return _given(df, target), "given"
    profiles = profiles if profiles is not None else profile_columns(df)
    again = "; use --target to choose another"
    named = _named(df, profiles)
    if named is not None:
        return named, f"named like a label ('{named}'){again}"
    only = _only_categorical(df, profiles)
    if only is not None:
        return only, (f"the only column of few levels ('{only}', {profiles[only][2]} levels) in an otherwise "
                      f"numeric file{again}")
    last = df.columns[-1]
    if _could_be_target(df[last], profiles[last]):
        return last, f"the last column ('{last}'){again}"
    ranked = _candidates(df, profiles)
    if not ranked:
        raise DataError("cannot tell which column is the target and no column looks like one; give --target")
    listing = ", ".join(f"{c} ({describe(df[c], profiles[c])})" for c in ranked[:6])
    raise DataError(f"cannot tell which column is the target; give --target: candidates are {listing}")


def _given(df: pd.DataFrame, target: str) -> str:
    if not target.strip():
        raise ConfigError("--target is empty; give the name of the label column")
    if target in df.columns:
        return target
    lowered = {str(c).lower(): c for c in df.columns}
    if target.lower() in lowered:
        return lowered[target.lower()]
    raise DataError(f"target column '{target}' not found{did_you_mean(target, df.columns)}; "
                    f"columns are: {quote_list(df.columns, 20)}")


def _named(df: pd.DataFrame, profiles: Profiles) -> str | None:
    rank = {name: i for i, name in enumerate(LABEL_NAMES)}
    found = [(rank[normalise(c)], -i, c) for i, c in enumerate(df.columns)
             if normalise(c) in rank and profiles[c][0] in (*PLAUSIBLE_ROLES, "constant")]
    return min(found)[2] if found else None


def _few_levels(s: pd.Series, profile: tuple[str, str, int]) -> bool:
    """Text or true/false values of at most FEW_LEVELS levels, none missing."""
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    return profile[0] == "categorical" and not numeric and profile[2] <= FEW_LEVELS and not s.isna().any()


def _only_categorical(df: pd.DataFrame, profiles: Profiles) -> str | None:
    """The one column of few levels among numbers, when the last column looks like just another feature (not
    a count or amount with many values, which is then the likelier target)."""
    usable = [c for c in df.columns if profiles[c][0] in PLAUSIBLE_ROLES]
    few = [c for c in usable if _few_levels(df[c], profiles[c])]
    if len(few) != 1:
        return None
    others = [c for c in usable if c != few[0]]
    if not others or not all(profiles[c][0] == "numeric" for c in others):
        return None
    last = df.columns[-1]
    if last == few[0] or profiles[last][0] not in PLAUSIBLE_ROLES:
        return few[0]
    many_counts = is_integral(df[last].dropna()) and profiles[last][2] > SMALL_INTEGERS
    return None if many_counts else few[0]


def _could_be_target(s: pd.Series, profile: tuple[str, str, int]) -> bool:
    role, _, n_unique = profile
    if role not in PLAUSIBLE_ROLES or s.isna().any():
        return False
    return role == "numeric" or n_unique <= FEW_LEVELS


def _candidates(df: pd.DataFrame, profiles: Profiles) -> list[str]:
    """Columns that could be the target, likeliest first: no missing values, then few levels, then the
    rightmost."""
    cols = [c for c in df.columns if profiles[c][0] in PLAUSIBLE_ROLES]

    def key(item: tuple[int, str]) -> tuple:
        i, c = item
        levels = profiles[c][2]
        return (bool(df[c].isna().any()), levels > FEW_LEVELS, levels if levels <= 10 else 11, -i)

    return [c for _, c in sorted(enumerate(cols), key=lambda item: key((item[0], item[1])))]


def describe(s: pd.Series, profile: tuple[str, str, int]) -> str:
    """A column's kind in a few words: 'binary 0/1', '3 levels', '16 integer values', 'numeric'."""
    role, _, n_unique = profile
    values = s.dropna()
    if n_unique == 2:
        a, b = sorted(map(str, values.unique()))
        kind = f"binary {a}/{b}"
    elif role == "categorical" and not pd.api.types.is_numeric_dtype(s):
        kind = f"{n_unique} levels"
    elif is_integral(values) and n_unique <= 30:
        kind = f"{n_unique} integer values"
    else:
        kind = "numeric"
    missing = int(s.isna().sum())
    return kind + (f", {missing} missing" if missing else "")


def infer_task(y: pd.Series, task: str | None = None) -> str:
    y = y.dropna()
    n_classes = y.nunique()
    if task:
        task = task.lower()
        if task in ("classification", "classify"):
            task = "binary" if n_classes == 2 else "multiclass"
        if task not in TASKS:
            raise ConfigError(f"unknown task '{task}'{did_you_mean(task, TASKS)}; valid tasks: {', '.join(TASKS)}")
        if task == "regression" and not pd.api.types.is_numeric_dtype(y):
            raise DataError(f"--task regression needs a numeric target, but '{y.name}' holds values like "
                            f"'{y.iloc[0]}'")
        if task == "binary" and n_classes > 2:
            raise DataError(f"--task binary, but target '{y.name}' has {n_classes} classes; use --task multiclass")
    elif pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        task = "binary" if n_classes <= 2 else "multiclass"
    elif is_integral(y) and n_classes <= 10:
        task = "binary" if n_classes <= 2 else "multiclass"
    else:
        task = "regression"
    if task != "regression" and n_classes < 2:
        only = y.iloc[0] if len(y) else "nothing"
        raise DataError(f"target '{y.name}' has only one class ('{only}'); a classifier needs at least two")
    if task == "regression" and y.nunique() < 2:
        raise DataError(f"target '{y.name}' is constant; there is nothing to predict")
    return task


def skewed_positive(y: pd.Series) -> float | None:
    """The skewness of a strictly positive numeric target when it is strong (> 2), else None."""
    values = pd.to_numeric(y, errors="coerce").dropna()
    if len(values) < 20 or values.min() <= 0:
        return None
    skew = float(values.skew())
    return skew if np.isfinite(skew) and skew > 2 else None
