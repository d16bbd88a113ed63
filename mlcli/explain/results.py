"""What explain returns: importances per user column, per method; SHAP values; one row explained."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.schema import Schema


@dataclass
class Importance:
    """One user column's importance under one method."""

    name: str
    importance: float
    spread: float | None = None
    direction: str | None = None
    share: float = 0.0
    terms: list[dict[str, Any]] | None = None  # linear models: the column's coefficients

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "importance": round_or_none(self.importance), "spread": round_or_none(self.spread),
             "direction": self.direction, "share": round_or_none(self.share)}
        if self.terms:
            d["terms"] = self.terms
        return d


@dataclass
class MethodResult:
    method: str
    measure: str  # what the importance number means, in words
    features: list[Importance]
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "measure": self.measure, "seconds": round(self.seconds, 3),
                **self.details, "features": [f.to_dict() for f in self.features]}


@dataclass
class ShapValues:
    """SHAP contributions per user column: base + values.sum(-1) == output for every row and output."""

    values: np.ndarray  # (n, k, M): rows, explained outputs, user columns
    base: np.ndarray  # (n, k)
    output: np.ndarray  # (n, k): the model output explained, computed directly from the model
    columns: list[str]
    outputs: list[str]  # a name per explained output, e.g. "log-odds of Survived=1"
    kind: str  # "log-odds" | "raw score" | "probability" | "prediction"
    explainer: str
    rows: np.ndarray  # positions of the explained rows in the data


@dataclass
class ExplainResult:
    bundle: str
    model: str
    task: str
    target: str
    data: str | None
    rows: int
    method: str
    results: dict[str, MethodResult]
    warnings: list[str] = field(default_factory=list)
    shap: ShapValues | None = None  # kept for --plot (beeswarm), not serialised
    shap_frame: pd.DataFrame | None = None
    training_rows: dict[str, Any] | None = None  # how many of the labelled rows the model was trained on

    @property
    def primary(self) -> MethodResult:
        for name in ("shap", "permutation", "native"):
            if name in self.results:
                return self.results[name]
        raise AssertionError("no method ran")

    def to_dict(self) -> dict[str, Any]:
        return {"command": "explain", "bundle": self.bundle, "model": self.model, "task": self.task,
                "target": self.target, "data": self.data, "rows": self.rows, "method": self.method,
                "features": [f.to_dict() for f in self.primary.features],
                "methods": {k: v.to_dict() for k, v in self.results.items()}, "warnings": self.warnings,
                "training_rows": self.training_rows}


@dataclass
class RowExplanation:
    bundle: str
    model: str
    task: str
    target: str
    data: str
    row: int
    values: dict[str, Any]
    prediction: Any
    probabilities: dict[str, float] | None
    explained: str  # which output is explained, e.g. "log-odds of Survived=1"
    base_value: float
    output_value: float
    contributions: list[dict[str, Any]]  # name, value, contribution; largest |contribution| first
    explainer: str
    actual: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"command": "explain", "bundle": self.bundle, "model": self.model, "task": self.task,
                "target": self.target, "data": self.data, "row": self.row, "values": self.values,
                "prediction": self.prediction, "actual": self.actual, "probabilities": self.probabilities,
                "explained": self.explained, "base_value": round_or_none(self.base_value),
                "output_value": round_or_none(self.output_value), "contributions": self.contributions,
                "explainer": self.explainer}


def round_or_none(value: float | None, digits: int = 6) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)


def json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def set_shares(items: list[Importance]) -> None:
    total = sum(max(i.importance, 0.0) for i in items) or 1.0
    for i in items:
        i.share = max(i.importance, 0.0) / total


def column_order(schema: Schema, sources: list[str]) -> list[str]:
    used = [c.name for c in schema.used]
    return [c for c in used if c in set(sources)] + list(dict.fromkeys(s for s in sources if s not in used))


def column_aggregator(sources: list[str], columns: list[str]):
    """A sparse (features x columns) 0/1 matrix: feature-level values @ A = user-column values."""
    from scipy import sparse

    pos = {c: i for i, c in enumerate(columns)}
    rows = np.arange(len(sources))
    cols = np.array([pos[s] for s in sources])
    return sparse.csr_matrix((np.ones(len(sources)), (rows, cols)), shape=(len(sources), len(columns)))
