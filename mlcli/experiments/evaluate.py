"""mlcli evaluate: a saved bundle's metrics on labelled data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlcli.data.dataset import encode_target
from mlcli.data.read import read_table
from mlcli.data.schema import check_against_schema
from mlcli.errors import DataError, did_you_mean
from mlcli.evaluation.report import EvalReport, measure
from mlcli.evaluation.scoring import check_threshold
from mlcli.models.bundle import Bundle, load_bundle


@dataclass
class EvaluateResult:
    bundle: str
    model: str
    source: str
    report: EvalReport
    dropped_rows: int

    def to_dict(self) -> dict[str, Any]:
        return {"command": "evaluate", "bundle": self.bundle, "model": self.model, "data": self.source,
                "dropped_missing_target": self.dropped_rows, **self.report.to_dict()}


def resolve_threshold(bundle: Bundle, threshold: float | None) -> float | None:
    check_threshold(threshold)
    if threshold is not None and bundle.task != "binary":
        raise DataError("--threshold applies to binary classification models only")
    return threshold if threshold is not None else bundle.threshold


def evaluate(bundle_path: str, data_path: str, *, sep: str | None = None, encoding: str | None = None,
             threshold: float | None = None, stdin: Any = None) -> EvaluateResult:
    bundle = load_bundle(bundle_path)
    thr = resolve_threshold(bundle, threshold)
    df = read_table(data_path, sep=sep, encoding=encoding, stdin=stdin)
    target = bundle.meta["target"]
    if target not in df.columns:
        raise DataError(f"evaluate needs labelled data: target column '{target}' not found in {data_path}"
                        f"{did_you_mean(target, df.columns)}; use 'mlcli predict' for unlabelled rows")
    missing = int(df[target].isna().sum())
    df = df[df[target].notna()].reset_index(drop=True)
    if df.empty:
        raise DataError(f"every row of {data_path} has a missing target '{target}'")
    X = check_against_schema(df, bundle.schema, data_path if data_path != "-" else "<stdin>")
    y = encode_target(df[target], bundle.task, bundle.classes)
    report = measure(bundle.pipeline, X, y, bundle.task, bundle.classes, thr)
    return EvaluateResult(str(bundle.path), bundle.meta.get("model", "?"), data_path, report, missing)
