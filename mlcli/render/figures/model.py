"""Every figure that applies to one model's predictions (train --plot, evaluate --plot, the HTML report)."""

from __future__ import annotations

from typing import Any

from mlcli.render.figures import binary, classes, regression
from mlcli.render.figures.scored import Scored
from mlcli.render.figures.style import Context

# file name -> drawing function, by what the predictions allow
BINARY = {"roc": binary.roc_figure, "precision_recall": binary.pr_figure, "threshold": binary.threshold_figure,
          "calibration": binary.calibration_figure}
CLASSES = {"confusion_matrix": classes.confusion_figure, "f1_by_class": classes.f1_figure}
REGRESSION = {"predicted_vs_actual": regression.predicted_actual_figure, "residuals": regression.residuals_figure,
              "residual_histogram": regression.residual_histogram_figure}


def model_figures(s: Scored, ctx: Context) -> dict[str, Any]:
    """name -> Figure for every figure the task and the predictions allow (ROC and friends need probabilities
    of both classes among the rows)."""
    if s.task == "regression":
        drawers = REGRESSION
    else:
        drawers = {**(BINARY if s.has_proba else {}), **CLASSES}
    return {name: draw(s, ctx) for name, draw in drawers.items()}
