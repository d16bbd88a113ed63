"""What cluster, reduce and anomalies share: loading without a target, the preprocessing (fitted on the
rows themselves: there is no held-out split in unsupervised work), the rows written out, and the bundle.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import DataOptions, Notify, quiet, tell
from mlcli.data.schema import Schema
from mlcli.errors import ConfigError, DataError, did_you_mean, first_line, quote_list

MIN_ROWS = 10  # fewer rows than this cannot be clustered, mapped or screened for anomalies meaningfully
FEATURE_ROLES = ("numeric", "categorical", "datetime")


@dataclass
class UnsupervisedRequest:
    """The options every unsupervised command takes (``data.target`` is unused: the label is ``label``)."""

    data: DataOptions
    method: str
    label: str | None = None
    keep: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    scale: str = "auto"
    seed: int = 42
    out: str | None = None
    threads: int | None = None


@dataclass
class Loaded:
    frame: pd.DataFrame  # the rows as read
    X: pd.DataFrame  # the feature frame (used columns, dtypes fixed by role)
    schema: Schema  # target = the --label column, or "" without one
    label: pd.Series | None
    source: str


def split_names(values: list[str] | None) -> list[str]:
    return [c.strip() for v in values or [] for c in v.split(",") if c.strip()]


def load(req: UnsupervisedRequest, notify: Notify = quiet, stdin: Any = None, command: str = "cluster") -> Loaded:
    """Read the data, decide the roles (the --label column and text columns are kept out of the features),
    and check there is something to learn from."""
    from mlcli.data.read import read_table
    from mlcli.data.roles import infer_schema
    from mlcli.data.schema import ColumnInfo, check_finite, prepare_frame

    df = read_table(req.data.path, sep=req.data.sep, encoding=req.data.encoding, stdin=stdin)
    tell(df, notify)
    for col, flag in [(c, "--keep") for c in split_names(req.keep)] + ([(req.label, "--label")] if req.label else []):
        if col not in df.columns:
            raise DataError(f"{flag} column '{col}' not found{did_you_mean(col, df.columns)}; "
                            f"columns are: {quote_list(df.columns, 20)}")
    if len(df) < MIN_ROWS:
        raise DataError(f"{command} needs at least {MIN_ROWS} rows, got {len(df)}")
    if req.label and df[req.label].isna().all():
        raise DataError(f"--label column '{req.label}' is empty: every value is missing")
    label = req.label or ""
    try:
        schema = infer_schema(df, label, "unsupervised", drop=req.data.drop, categorical=req.data.categorical,
                              text=req.data.text, numeric=req.data.numeric)
    except DataError as exc:
        if "no usable feature columns" not in str(exc):
            raise
        schema = Schema(label, "unsupervised", [])
    text = schema.by_role("text")
    if text:
        notify(f"left out free-text column(s) {', '.join(text)}: turn text into numbers first with mlcli embed")
        schema.columns = [ColumnInfo(c.name, c.dtype, "dropped", "free text", c.n_unique, c.missing)
                          if c.role == "text" else c for c in schema.columns]
    for info in schema.columns:
        if info.role in ("identifier", "constant"):
            notify(f"dropped column '{info.name}': {info.role} ({info.reason}); keep it with --categorical/--numeric")
    if not any(schema.by_role(r) for r in FEATURE_ROLES):
        raise DataError(f"{command} needs at least one numeric or categorical column; none is left "
                        f"(columns: {', '.join(f'{c.name} ({c.role})' for c in schema.columns) or 'none'})")
    notify("columns: " + "; ".join(f"{role} {', '.join(schema.by_role(role))}"
                                   for role in FEATURE_ROLES if schema.by_role(role)))
    X = prepare_frame(df, schema)
    check_finite(X, schema.by_role("numeric"))
    source = req.data.path if req.data.path != "-" else "<stdin>"
    return Loaded(df, X, schema, df[req.label] if req.label else None, source)


def preprocessor(schema: Schema, scale: str) -> Any:
    """Imputation, scaling (standard unless --scale says otherwise: distances need comparable units) and
    one-hot encoding, as a dense matrix: the same ColumnTransformer train builds."""
    from mlcli.features.preprocess import PreprocessOptions, build_preprocessor, resolve_scale

    scale = resolve_scale(scale, model_wants_scaling=True)
    return build_preprocessor(schema, PreprocessOptions(scale=scale), scale=scale, native_categorical=False,
                              dense=True)


def fit_matrix(loaded: Loaded, scale: str) -> tuple[Any, np.ndarray]:
    """(the fitted preprocessor, the rows as the method sees them)."""
    pre = preprocessor(loaded.schema, scale)
    Z = np.asarray(pre.fit_transform(loaded.X), dtype=np.float64)
    return pre, Z


SMALL_CELLS = 2_000_000  # below this many matrix cells one thread is fastest (OpenMP's start-up costs more)


def thread_limit(threads: int | None, Z: np.ndarray) -> Any:
    """A context that caps the BLAS/OpenMP threads of the fits: --threads, else one for a small matrix (k-means
    on 10,000 x 4 rows: 0.18 s on one thread, 12 s on two busy cores), else the default model threads."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(fit_threads(threads, Z))


def fit_threads(threads: int | None, Z: np.ndarray) -> int:
    from mlcli.models.build import default_threads

    if threads is not None:
        return threads
    return 1 if Z.size < SMALL_CELLS else default_threads()


@contextmanager
def fitting(spec: Any):
    """A library's refusal of a parameter value at fit time (--param perplexity=500 on 150 rows) as one
    ConfigError line naming the method, instead of an internal error."""
    try:
        yield
    except ValueError as exc:
        raise ConfigError(f"method '{spec.name}' could not be fitted: {first_line(exc)}") from None


def kept_columns(loaded: Loaded, keep: list[str]) -> pd.DataFrame:
    names = split_names(keep)
    return loaded.frame[names].reset_index(drop=True).copy() if names else pd.DataFrame(index=range(len(loaded.frame)))


def free_name(frame: pd.DataFrame, name: str) -> str:
    """``name``, or mlcli_``name`` when a kept column already has it."""
    return name if name not in frame.columns else f"mlcli_{name}"


def check_out(out: str | None, spec: Any) -> None:
    """--out is refused before any work for a method that cannot handle new rows."""
    if out is None:
        return
    if not spec.predicts:
        raise ConfigError(f"--out: {spec.name} cannot place new rows (it only maps the rows it was given), so it "
                          "saves no bundle; leave out --out, or use --method pca")
    from mlcli.models.bundle import check_bundle_path

    check_bundle_path(out)


def save(out: str, loaded: Loaded, pre: Any, final: Any, task: str, method: str, params: dict[str, Any],
         seed: int, metrics: dict[str, Any], extra: dict[str, Any] | None = None) -> str:
    """A bundle whose pipeline is the fitted preprocessing and ``final`` (a step with predict or transform):
    ``mlcli predict BUNDLE new.csv`` checks new rows against the schema and assigns or transforms them."""
    from sklearn.pipeline import Pipeline

    from mlcli import __version__
    from mlcli.data.read import fingerprint
    from mlcli.models.bundle import save_bundle
    from mlcli.models.versions import library_versions

    pipeline = Pipeline([("columns", pre), (task, final)])
    meta = {
        "mlcli_version": __version__, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "libraries": library_versions(["sklearn", "numpy", "pandas"]), "model": method, "task": task,
        "target": loaded.schema.target, "classes": [], "threshold": None, "schema": loaded.schema.to_dict(),
        "params": params, "seed": seed,
        "data": {"source": loaded.source, "fingerprint": fingerprint(loaded.frame), "rows": len(loaded.frame)},
        "metrics": metrics, **(extra or {}),
    }
    return str(save_bundle(out, pipeline, meta))


def label_codes(label: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(mask of rows with a label, the labels of those rows as text)."""
    mask = label.notna().to_numpy()
    return mask, label[mask].astype(str).to_numpy()
