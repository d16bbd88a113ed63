"""mlcli evaluate: a saved bundle's metrics on labelled data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcli.data.dataset import SYNTHETIC, Notify, encode_target, quiet, row_hashes, synthetic_warning, tell, warn
from mlcli.data.read import read_table
from mlcli.data.schema import check_against_schema, check_finite
from mlcli.errors import DataError, did_you_mean
from mlcli.evaluation.baseline import Baseline
from mlcli.evaluation.calibration import calibration_check
from mlcli.evaluation.report import EvalReport, measure
from mlcli.evaluation.scoring import check_threshold
from mlcli.experiments.checks import training_rows
from mlcli.experiments.verdicts import calibration_advice
from mlcli.models.bundle import Bundle, load_bundle, require_supervised


@dataclass
class EvaluateResult:
    bundle: str
    model: str
    source: str
    report: EvalReport
    dropped_rows: int
    baseline: dict[str, Any] | None = None  # the trivial model's metrics on the same rows
    training_rows: dict[str, Any] | None = None  # how many of these rows the model was trained on
    warnings: list[str] = field(default_factory=list)
    target: str = ""  # the label column (named in figures)
    calibration: dict[str, Any] | None = None  # Brier/ECE on these rows and the verdict (evaluation.calibration)

    def to_dict(self) -> dict[str, Any]:
        return {"command": "evaluate", "bundle": self.bundle, "model": self.model, "data": self.source,
                "dropped_missing_target": self.dropped_rows, **self.report.to_dict(), "baseline": self.baseline,
                "training_rows": self.training_rows, "warnings": self.warnings, "calibration": self.calibration}


def resolve_threshold(bundle: Bundle, threshold: float | None) -> float | None:
    check_threshold(threshold)
    if threshold is not None and bundle.task != "binary":
        raise DataError("--threshold applies to binary classification models only")
    return threshold if threshold is not None else bundle.threshold


def evaluate(bundle_path: str, data_path: str, *, sep: str | None = None, encoding: str | None = None,
             threshold: float | None = None, stdin: Any = None, trust_pickle: bool = False,
             notify: Notify = quiet) -> EvaluateResult:
    bundle = load_bundle(bundle_path, trust_pickle=trust_pickle, notify=notify)
    require_supervised(bundle, "evaluate")
    thr = resolve_threshold(bundle, threshold)
    df = read_table(data_path, sep=sep, encoding=encoding, stdin=stdin)
    tell(df, notify)
    if SYNTHETIC in df.columns:
        made = pd.to_numeric(df[SYNTHETIC], errors="coerce").fillna(0).to_numpy() > 0
        if made.any():
            warn(notify, synthetic_warning(int(made.sum()), len(made)))
    target = bundle.meta["target"]
    if target not in df.columns:
        raise DataError(f"evaluate needs labelled data: target column '{target}' not found in {data_path}"
                        f"{did_you_mean(target, df.columns)}; use 'mlcli predict' for unlabelled rows")
    present = df[target].notna().to_numpy()
    missing = int(len(present) - present.sum())
    df = df[present].reset_index(drop=True)
    if df.empty:
        raise DataError(f"every row of {data_path} has a missing target '{target}'")
    label = data_path if data_path != "-" else "<stdin>"
    rows = np.flatnonzero(present) if missing else None  # an infinite value is named by its row in the file
    X = check_against_schema(df, bundle.schema, label, rows, notify=notify)
    if bundle.task == "regression":
        check_finite(df, [target], label, rows)
    y = encode_target(df[target], bundle.task, bundle.classes)
    report = measure(bundle.pipeline, X, y, bundle.task, bundle.classes, thr)
    seen, warnings = training_rows(row_hashes(X, y), bundle.train_rows())
    baseline = Baseline.from_dict(bundle.task, bundle.meta.get("baseline"))
    scores = baseline.metrics(y) if baseline is not None else None
    return EvaluateResult(str(bundle.path), bundle.meta.get("model", "?"), data_path, report, missing, scores, seen,
                          warnings, target, _calibration(bundle, report, scores, seen, warnings))


def _calibration(bundle: Bundle, report: EvalReport, baseline: dict[str, Any] | None,
                 seen: dict[str, Any] | None, warnings: list[str]) -> dict[str, Any] | None:
    """The calibration of the bundle's probabilities on these rows; clearly miscalibrated ones (mostly rows the
    model was not trained on) add a warning to ``warnings``."""
    if bundle.task == "regression":
        return None
    check = calibration_check(report.y, report.proba, (baseline or {}).get("brier"))
    if check is None:
        return None
    check["calibrated"] = bundle.meta.get("calibration")
    if check["miscalibrated"] and (seen or {}).get("share", 0.0) < 0.5:
        warnings.append(calibration_advice(check, bool(check["calibrated"]), "the probabilities on these rows"))
    return check
