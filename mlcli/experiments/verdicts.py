"""What the held-out scores say that a headline metric can hide, told once the model is fitted: probabilities
worse than the baseline's (a proper scoring rule — log loss — sees an overconfident, overfitted model that
ROC AUC calls fine), probabilities clearly miscalibrated (evaluation.calibration), a regression worse than
predicting the mean, and a minority class the model hardly ever finds, with what to try for it."""

from __future__ import annotations

from typing import Any

from mlcli.experiments.checks import Findings

MINORITY_RECALL = 0.5  # below this share of its rows found, a minority class gets advice


def proper_score(task: str, test: dict[str, Any], train: dict[str, Any], baseline: dict[str, Any]
                 ) -> dict[str, Any] | None:
    """The held-out log loss (classification) or R² (regression) against the baseline's: the model is worse
    than the trivial one on a proper scoring rule when ``worse_than_baseline``."""
    if task == "regression":
        r2 = test.get("r2")
        return None if r2 is None else {"metric": "r2", "test": r2, "train": train.get("r2"), "baseline": 0.0,
                                        "worse_than_baseline": bool(r2 < 0)}
    te, base = test.get("log_loss"), baseline.get("log_loss")
    if te is None or base is None:
        return None
    return {"metric": "log_loss", "test": te, "train": train.get("log_loss"), "baseline": base,
            "worse_than_baseline": bool(te > base)}


def after_fit(task: str, test: dict[str, Any], train: dict[str, Any], baseline: dict[str, Any],
              minority: dict[str, Any] | None, tried: set[str], calibration: dict[str, Any] | None = None
              ) -> Findings:
    """Warnings from the held-out scores; ``tried``: the remedies already in use ('threshold', 'class-weight',
    'balance', 'calibrate'), which are not suggested again; ``calibration``: evaluation.calibration's check."""
    out = []
    proper = proper_score(task, test, train, baseline)
    if proper and proper["worse_than_baseline"] and task != "regression":
        out.append(_log_loss_line(proper))
    elif proper and proper["worse_than_baseline"]:
        out.append(f"held-out R² {proper['test']:.3f} is below 0: the model predicts the held-out rows worse than "
                   "the training mean does; compare models with mlcli cv")
    if calibration and calibration.get("miscalibrated"):
        out.append(calibration_advice(calibration, bool(calibration.get("calibrated")) or "calibrate" in tried))
    if minority and minority.get("recall") is not None and minority["recall"] < MINORITY_RECALL:
        out.append(_minority_advice(task, minority, tried))
    return Findings(out)


def _log_loss_line(proper: dict[str, Any]) -> str:
    """Held-out log loss worse than the baseline's: overfitting when the training rows score well, a failed fit
    when they score worse than the baseline too (LightGBM on the gauntlet's 35 rodent species: 22.8 on both)."""
    train = proper["train"]
    head = (f"held-out log loss {proper['test']:.3f} is worse than the baseline's {proper['baseline']:.3f} "
            "(the training class shares for every row)")
    if train is not None and train > proper["baseline"]:
        return (f"{head}, and so is its {train:.3f} on the training rows: the fit failed (the model's "
                "probabilities are wrong even on the rows it learned from); try another model (compare with "
                "mlcli cv) and do not use this one")
    on_train = f"; on its training rows it is {train:.3f}" if train is not None else ""
    return (f"{head}{on_train}: the model's probabilities are overconfident — it overfits; use fewer rounds or a "
            "simpler model (compare with mlcli cv) and do not read its probabilities as chances")


def calibration_advice(c: dict[str, Any], calibrated: bool, what: str = "held-out probabilities") -> str:
    """One line for probabilities that are clearly miscalibrated (evaluation.calibration's rule), with the
    remedy: --calibrate, or when the model is calibrated already, a comparison of models."""
    base = f", the baseline's {c['baseline_brier']:.3f}" if c.get("baseline_brier") is not None else ""
    remedy = ("even though the model is calibrated: compare models with mlcli cv --metric brier" if calibrated
              else "refit with --calibrate sigmoid (isotonic with thousands of training rows) before reading "
                   "them as chances")
    return (f"{what} are miscalibrated: calibration error (ECE, {c['on']}) {c['ece']:.3f} on "
            f"{c['rows']} rows, where a calibrated model would stay below {c['ece_noise']:.3f} (Brier "
            f"{c['brier']:.3f}{base}); {remedy}")


def _minority_advice(task: str, m: dict[str, Any], tried: set[str]) -> str:
    remedies = []
    if task == "binary" and "threshold" not in tried:
        remedies.append("choose the decision threshold with --threshold auto")
    calibrating = "calibrate" in tried  # calibration undoes weights, and refuses resampling: the threshold is left
    if "class-weight" not in tried and not calibrating:
        remedies.append("weight the classes with --class-weight balanced")
    if "balance" not in tried and not calibrating:
        remedies.append("resample the training rows with --balance smote")
    what = ("; " + ", ".join(remedies[:-1]) + (" or " if len(remedies) > 1 else "") + remedies[-1]) if remedies \
        else "; the remedies in use did not help: compare models with mlcli cv --metric pr_auc"
    return (f"the minority class '{m['class']}' ({m['support']} held-out rows, {m['imbalance_ratio']:.0f}:1) is "
            f"found in {m['recall']:.0%} of its rows (F1 {m['f1'] or 0:.3f}){what}")
