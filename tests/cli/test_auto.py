"""mlcli auto from the command line: the time limit kept on Titanic, a bundle that predict/evaluate/inspect accept,
JSON when piped, table and CSV on request, the run history, one-line errors before any fit."""

from __future__ import annotations

import json
import time

import pytest

from conftest import SAMPLE, assert_error

TITANIC = SAMPLE / "titanic.csv"
IRIS = SAMPLE / "iris.csv"
LIMIT = 20.0
MARGIN = 3.0  # seconds past the limit the search may take: the watchdog polls every 0.5 s, ensemble selection


@pytest.fixture(scope="module")
def titanic_run(tmp_path_factory):
    """One 20-second fast run on Titanic (1,309 rows, a text column) with --out: timed, JSON on stdout."""
    from conftest import cli

    out = tmp_path_factory.mktemp("auto") / "model"
    t0 = time.perf_counter()
    res = cli("auto", TITANIC, "--time-limit", LIMIT, "--preset", "fast", "--out", out)
    return res, time.perf_counter() - t0, out


def test_the_time_limit_is_kept(titanic_run):
    res, wall, _ = titanic_run
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)  # stdout holds the document and nothing else
    budget = doc["budget"]
    # with --out the search leaves the time the final fits of its best candidates are expected to take
    reserved = budget["final_reserve_s"]
    assert budget["time_limit"] == LIMIT and 0 < reserved <= LIMIT / 2
    assert budget["used_s"] <= LIMIT - reserved + MARGIN
    late = max(0.0, budget["final_s"] - reserved)  # the final fits took longer than expected
    assert doc["seconds"] <= LIMIT + MARGIN + late
    assert wall <= LIMIT + MARGIN + late + 5  # + reading the data, imports, the JSON
    assert budget["tried"] >= 4 and set(budget["phases"]) >= {"portfolio", "ensemble"}


def test_ensemble_beside_the_best_single_model_and_the_baseline(titanic_run):
    doc = json.loads(titanic_run[0].stdout)
    ens, single, base = doc["ensemble"], doc["best_single"], doc["baseline"]
    assert doc["metric"] == "roc_auc" and doc["folds"] == 3 and doc["tuning"] is None  # the fast preset
    assert 0.82 < single["score"] < 0.9 and 0.45 < base["score"] <= 0.55
    assert ens["oof_score"] >= single["oof_score"] - 1e-9  # greedy selection starts from the best single model
    assert abs(sum(m["weight"] for m in ens["members"]) - 1) < 1e-6
    names = {r["name"] for r in doc["leaderboard"]}
    assert {"ensemble", "baseline", "logreg#default", "lightgbm#default"} <= names
    weights = {r["name"]: r["weight"] for r in doc["leaderboard"] if r["weight"]}
    assert weights == {m["name"]: pytest.approx(m["weight"]) for m in ens["members"]}
    best = next(r for r in doc["leaderboard"] if r["best"])
    others = [r for r in doc["leaderboard"] if r["rank"] and not r["best"]]
    assert best["rank"] == 1 and all(r["vs_best"]["pairs"] == 3 for r in others)


def test_the_bundle_is_accepted_by_predict_evaluate_and_inspect(mlcli, titanic_run):
    res, _, out = titanic_run
    doc = json.loads(res.stdout)
    assert doc["saved"] == str(out) and doc["ensemble"]["final"] == "refit"  # the default final model
    meta = json.loads((out / "mlcli.json").read_text())
    assert meta["model"] == "ensemble" and meta["auto"]["final"] == "refit"
    assert [m["name"] for m in meta["params"]["members"]] == [m["name"] for m in doc["ensemble"]["members"]]
    assert meta["cv"]["score"] == doc["ensemble"]["score"]
    predicted = mlcli("predict", out, TITANIC, "-f", "csv", "-q")
    assert predicted.exit_code == 0, predicted.stderr
    assert len(predicted.stdout.splitlines()) == 1310
    evaluated = json.loads(mlcli("evaluate", out, TITANIC, "-f", "json", "-q").stdout)
    assert evaluated["metrics"]["roc_auc"] > 0.85  # training rows (labelled so): a sanity check
    assert json.loads(mlcli("inspect", out, "-f", "json").stdout)["model"] == "ensemble"


def test_the_run_is_recorded_in_the_history(mlcli):
    res = mlcli("auto", IRIS, "--time-limit", "6", "--preset", "fast", "--candidates", "2", "--no-leak-check", "-q")
    assert res.exit_code == 0, res.stderr
    runs = json.loads(mlcli("runs", "list", "--format", "json").stdout)
    run = runs[0] if isinstance(runs, list) else runs["runs"][0]
    assert run["command"] == "auto" and run["status"] == "finished"


def test_table_and_csv(mlcli):
    # --always-ensemble: the guard may return the best default model (iris: XGBoost alone ties the ensemble),
    # and this test is about how an ensemble is shown
    quick = ["--time-limit", "10", "--preset", "fast", "--candidates", "2", "--no-leak-check", "--always-ensemble"]
    table = mlcli("auto", IRIS, *quick, "--format", "table")
    assert table.exit_code == 0, table.stderr
    assert "mlcli auto" in table.stdout and "Leaderboard" in table.stdout and "Ensemble" in table.stdout
    assert "nothing saved: give --out DIR" in table.stderr
    rows = mlcli("auto", IRIS, *quick, "--format", "csv", "-q").stdout.splitlines()
    assert rows[0].startswith("rank,name,model,tier,best,status,folds,f1_macro,f1_macro_std,weight,")
    assert len(rows) == 1 + 4 and any(",ensemble,ensemble," in r for r in rows)  # baseline, 2 candidates, ensemble


@pytest.mark.parametrize("args, fragment", [
    (["--time-limit", "0"], "--time-limit must be a positive number of seconds, got 0"),
    (["--time-limit", "-5"], "--time-limit must be a positive number of seconds, got -5"),
    (["--preset", "slow"], "unknown --preset 'slow'; choose one of: fast, best"),
    (["--trials", "0"], "--trials must be at least 1, got 0"),
    (["--metric", "nope"], "unknown --metric 'nope'; choose one of:"),
    (["--metric", "rmse"], "--metric 'rmse' is not reported for binary tasks"),
])
def test_bad_input_is_one_line_before_any_fit(mlcli, args, fragment):
    res = mlcli("auto", TITANIC, *args)
    assert_error(res, fragment)
    assert "portfolio candidate" not in res.stderr  # nothing fitted


def test_a_non_empty_output_directory_is_refused_before_any_fit(mlcli, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    res = mlcli("auto", TITANIC, "--out", tmp_path / "full")
    assert_error(res, "is a non-empty directory that is not an mlcli bundle")
    assert "target" not in res.stderr  # not even read


def test_bag_keeps_each_members_fold_models(mlcli, tmp_path):
    """--bag: the final model averages each member's fold models (3 folds: 3 models each) instead of one refit."""
    from mlcli.models.bundle import load_bundle

    out = tmp_path / "model"
    res = mlcli("auto", IRIS, "--time-limit", "30", "--preset", "fast", "--candidates", "2", "--no-tune", "--bag",
                "--out", out, "--no-leak-check")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["ensemble"]["final"] == "bagged"
    bundle = load_bundle(out)
    assert bundle.meta["auto"]["final"] == "bagged"
    assert {len(f) for f in bundle.pipeline.steps[-1][1].members_} == {3}


def test_the_guard_keeps_the_best_default_unless_the_ensemble_beats_it_on_unseen_rows(mlcli):
    """The same run with and without --always-ensemble: one check, recorded in both; acted on only without.
    (A generous limit that does not bind, so both runs fit the same candidates.)"""
    quick = ["--time-limit", "300", "--candidates", "4", "--no-leak-check", "--jobs", "1", "-q"]
    plain, always = (mlcli("auto", TITANIC, *quick, *extra) for extra in ([], ["--always-ensemble"]))
    assert plain.exit_code == 0 and always.exit_code == 0, plain.stderr + always.stderr
    g1, g2 = (json.loads(r.stdout)["ensemble"] for r in (plain, always))
    for key in ("reference", "gain", "in_sample_gain", "halves", "kept"):
        assert g1["guard"][key] == g2["guard"][key]
    guard = g1["guard"]
    assert guard["reference"].endswith("#default") and not g2["guard"]["acted"]
    greedy = [m["name"] for m in g2["members"]]
    if greedy == [guard["reference"]]:  # selection added nothing to the best default: nothing to check
        assert guard["halves"] == [] and guard["kept"]
    else:
        assert len(guard["halves"]) == 4 and guard["kept"] == (guard["gain"] > 0)
    if guard["kept"]:
        assert [m["name"] for m in g1["members"]] == greedy and not guard["acted"]
    else:
        assert g1["members"] == [{"name": guard["reference"], "weight": 1.0}] and guard["acted"]
        assert [n for n, _ in guard["ensemble"]] == greedy
    board = {r["name"]: r for r in json.loads(plain.stdout)["leaderboard"]}
    assert board["ensemble"]["why"].startswith("the best default model") == guard["acted"]
