"""The progress of a single fit on stderr (issue 25): rounds, elapsed time and time left for the boosters, an
elapsed-time ticker for the rest; never on stdout, silenced by --quiet, absent from quick fits, and never kept
in the saved bundle.

Data: sample_data/titanic.csv (real; 1,047 training rows: early stopping carves its validation slice),
sample_data/iris.csv (real; 150 rows: early stopping chooses the rounds on inner folds) and the generated
``small_binary`` fixture (200 rows). MLCLI_PROGRESS_AFTER=0 shows the progress of these quick fits at once.
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest

from mlcli.data.dataset import DataOptions, encode_classes, load_dataset
from mlcli.models import fit_progress as FP
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.bundle import load_bundle
from mlcli.models.registry import MODELS

from conftest import SAMPLE

BOOSTERS = [m for m in ("xgboost", "lightgbm", "catboost") if MODELS[m].installed()]
# early stopping: the time left is a range (to its soonest stop, to its last round), or "at most" the latter
ROUNDS = re.compile(r"^mlcli: fitting \w+ on [\d,]+ rows(?: \(fit \d+\))?: \d+/\d+ rounds, \d+:\d\d elapsed, "
                    r"(\d+:\d\d to|at most) \d+:\d\d left$")


def _progress_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.match(r"mlcli: fitting .*: .*(elapsed|took)", line)]


def _data(name: str):
    ds = load_dataset(DataOptions(str(SAMPLE / name)))
    y, _ = encode_classes(ds)
    return ds, y


def _callbacks_left(pipeline) -> list[str]:
    return [type(o).__name__ for o in FP.walk(pipeline) if getattr(o, "callbacks", None)]


@pytest.mark.parametrize("model", BOOSTERS)
def test_train_shows_rounds_and_time_left_on_stderr_only(mlcli, monkeypatch, tmp_path, model):
    monkeypatch.setenv(FP.AFTER_ENV, "0")
    out = tmp_path / "bundle"
    r = mlcli("train", SAMPLE / "titanic.csv", "--model", model, "--format", "json", "--no-leak-check", "-o", out)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)  # stdout holds the JSON document and nothing else
    assert doc["early_stopping"]["stopped"]
    lines = _progress_lines(r.stderr)
    assert any(ROUNDS.match(line) for line in lines), r.stderr  # rounds done/total and the time left
    assert re.match(rf"^mlcli: fitting {model} on 1,047 rows: \d+ rounds, took \d+:\d\d$", lines[-1]), lines
    assert "\r" not in r.stderr  # not a terminal: whole lines, none redrawn
    # the callbacks were there for the fit only: the bundle loads (skops checks every type) and predicts
    bundle = load_bundle(out)
    assert _callbacks_left(bundle.pipeline) == []
    p = mlcli("predict", out, SAMPLE / "titanic.csv", "--format", "json")
    assert p.exit_code == 0, p.stderr
    assert len(json.loads(p.stdout)) == 1309


def test_quiet_shows_no_progress(mlcli, monkeypatch):
    monkeypatch.setenv(FP.AFTER_ENV, "0")
    r = mlcli("train", SAMPLE / "titanic.csv", "--model", "lightgbm", "--no-leak-check", "--quiet")
    assert r.exit_code == 0 and r.stderr == ""


def test_a_quick_fit_shows_no_progress_by_default(mlcli, monkeypatch, small_binary):
    monkeypatch.delenv(FP.AFTER_ENV, raising=False)
    r = mlcli("train", small_binary, "--model", "lightgbm", "--no-leak-check", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert _progress_lines(r.stderr) == [], r.stderr
    json.loads(r.stdout)


@pytest.mark.parametrize("model", BOOSTERS)
def test_progress_leaves_the_model_as_a_plain_fit_makes_it(model):
    """Inner folds (iris: 150 rows) fit several times, each fit counted; the predictions are those of a fit
    without progress, and no copy of the model keeps the callback."""
    ds, y = _data("iris.csv")
    config = ModelConfig(model, seed=1, n_threads=1)
    plain = build_pipeline(ds.schema, config).fit(ds.X, y)
    stream = io.StringIO()
    shown = FP.fit_with_progress(build_pipeline(ds.schema, config), ds.X, y, f"fitting {model} on 150 rows",
                                 stream=stream, after=0.0)
    np.testing.assert_allclose(shown.predict_proba(ds.X), plain.predict_proba(ds.X))
    assert _callbacks_left(shown) == []
    lines = stream.getvalue().splitlines()
    assert lines and lines[-1].startswith(f"mlcli: fitting {model} on 150 rows: ")
    if model != "catboost":  # CatBoost keeps its usual count below 1,000 rows: one fit
        assert re.search(r"\d+ rounds in 4 fits, took", lines[-1]), lines


def test_a_failed_fit_leaves_no_callback():
    if "xgboost" not in BOOSTERS:
        pytest.skip("xgboost is not installed")
    ds, y = _data("titanic.csv")
    pipeline = build_pipeline(ds.schema, ModelConfig("xgboost", {"early_stopping": False}, n_threads=1))
    with pytest.raises(ValueError):
        FP.fit_with_progress(pipeline, ds.X, y + 5, "fitting xgboost", stream=io.StringIO(), after=0.0)
    assert _callbacks_left(pipeline) == []


def test_models_without_rounds_get_an_elapsed_ticker():
    ds, y = _data("titanic.csv")
    stream = io.StringIO()
    FP.fit_with_progress(build_pipeline(ds.schema, ModelConfig("rf", n_threads=1)), ds.X, y,
                         "fitting rf on 1,309 rows", stream=stream, after=0.0)
    lines = stream.getvalue().splitlines()
    assert re.match(r"^mlcli: fitting rf on 1,309 rows: 0:0\d elapsed \(no estimate: RandomForestClassifier reports "
                    r"no progress while it fits\)$", lines[0]), lines
    assert re.match(r"^mlcli: fitting rf on 1,309 rows: took \d+:\d\d$", lines[-1]), lines


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_and_its_estimate():
    clock = [100.0]
    progress = FP.FitProgress("fitting xgboost", at_most=True, stream=_Terminal(), after=5.0, clock=lambda: clock[0])
    assert progress.patience is None  # not given: no best round to count from
    progress.begin(2000)
    progress.round(1)  # the rate counts from the end of the first round (it also builds the histograms)
    clock[0] = 101.0
    progress.round(11)  # before the 5 s: nothing shown
    assert progress.stream.getvalue() == "" and progress.eta(101.0) == pytest.approx((198.9, 198.9))
    clock[0] = 110.0
    progress.round(101)  # 0.1 s a round, 1,899 rounds left
    first = "mlcli: fitting xgboost: 101/2000 rounds, 0:10 elapsed, at most 3:10 left"
    assert progress.stream.getvalue() == "\r" + first  # on a terminal: redrawn in place
    progress.patience, progress.best = 50, 90  # early stopping ends it at round 140 unless the score improves
    assert progress.line(110.0).endswith(", 0:04 to 3:10 left")
    progress.best = 1990  # its soonest end is its last round
    assert progress.line(110.0).endswith(", about 3:10 left")
    progress.at_most, progress.best = False, None
    assert progress.line(110.0).endswith(", about 3:10 left")
    clock[0] = 111.0
    progress.begin(40)
    progress.round(1)
    assert progress.line(111.0) == "mlcli: fitting xgboost (fit 2): 1/40 rounds, 0:11 elapsed"
    progress.close()
    last = "mlcli: fitting xgboost: 102 rounds in 2 fits, took 0:11"
    assert progress.stream.getvalue() == "\r" + first + "\r" + last + " " * (len(first) - len(last)) + "\n"


def test_catboost_log_lines_count_rounds_and_the_best_one():
    from mlcli.models.round_callbacks import _CatBoostLog

    progress = FP.FitProgress("fitting catboost", at_most=True, patience=50, stream=io.StringIO(), after=99.0)
    log = _CatBoostLog(progress)
    log.write("Learning rate set to 0.08\n0:\tlearn: 0.69\ttest: 0.69\tbest: 0.69 (0)\ttotal: 1ms\tremaining: 2s\n")
    log.write("1:\tlearn: 0.66\ttest: 0.67\tbest: 0.67 (1)\ttot")  # a line may come in pieces
    assert (progress.fits, progress.done, progress.best) == (1, 1, 1)
    log.write("al: 2ms\tremaining: 2s\n2:\tlearn: 0.6\ttest: 0.68\tbest: 0.67 (1)\ttotal: 3ms\n")
    assert (progress.done, progress.best) == (3, 2)
    log.write("\nbestTest = 0.67\nbestIteration = 1\n")
    assert (progress.fits, progress.done, progress.best) == (1, 3, 2)


def test_show_after_reads_the_environment(monkeypatch):
    monkeypatch.setenv(FP.AFTER_ENV, "0.5")
    assert FP.show_after() == 0.5
    for bad in ("soon", "-1", "nan", ""):
        monkeypatch.setenv(FP.AFTER_ENV, bad)
        assert FP.show_after() == FP.AFTER
