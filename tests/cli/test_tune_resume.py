"""tune --resume: a search kept in Optuna's RDB storage beside the run history is continued on the same folds;
a search that does not match is refused with one line (exit 2) before any fit."""

from __future__ import annotations

import json
import os

import pytest

from conftest import SAMPLE, assert_error

TITANIC = SAMPLE / "titanic.csv"
QUICK = ["--model", "knn", "--folds", "3", "--no-leak-check", "--seed", "5"]


def _kept(name: str) -> list:
    import optuna

    path = f"{os.environ['MLCLI_HOME']}/studies.db"
    return optuna.load_study(study_name=name, storage=f"sqlite:///{path}").get_trials()


def _strip(doc: dict) -> list[tuple]:
    return [(t["trial"], t["default"], t["params"], t["state"], t["fold_scores"]) for t in doc["trials"]]


def test_resume_continues_the_kept_search(mlcli):
    first = mlcli("tune", TITANIC, *QUICK, "--trials", "3")
    assert first.exit_code == 0, first.stderr
    a = json.loads(first.stdout)
    assert a["resumed_trials"] == 0 and a["study"].startswith("tune-knn-") and len(a["trials"]) == 3
    again = mlcli("tune", TITANIC, *QUICK, "--trials", "3", "--resume")
    assert again.exit_code == 0, again.stderr
    b = json.loads(again.stdout)
    assert "resuming the kept search: 3 trial(s) so far" in again.stderr
    assert b["study"] == a["study"] and b["resumed_trials"] == 3 and len(b["trials"]) == 6
    assert _strip(b)[:3] == _strip(a)  # the kept trials as they were: the same folds, not refitted
    assert [t["trial"] for t in b["trials"]] == list(range(6)) and [t["default"] for t in b["trials"]].count(True) == 1
    new_points = [t["params"] for t in b["trials"][3:]]
    assert all(p not in [t["params"] for t in a["trials"]] for p in new_points)  # the sampler moved on
    best = max((t for t in b["trials"] if t["state"] == "complete"), key=lambda t: (t["score"], -t["trial"]))
    assert b["best"]["trial"] == best["trial"] and b["default_score"] == a["default_score"]
    kept = _kept(b["study"])
    assert [t.number for t in kept] == list(range(6))
    assert [t.user_attrs["mlcli_row"]["row"]["scores"] for t in kept] == [t["fold_scores"] for t in b["trials"]]


def test_a_new_search_replaces_the_kept_one(mlcli):
    mlcli("tune", TITANIC, *QUICK, "--trials", "3", "-q")
    res = mlcli("tune", TITANIC, *QUICK, "--trials", "2", "-q")
    assert len(_kept(json.loads(res.stdout)["study"])) == 2


@pytest.mark.parametrize("change", [["--folds", "4"], ["--seed", "6"], ["--metric", "accuracy"],
                                    ["--param", "weights=distance"], ["--target", "Pclass"]])
def test_resume_of_another_search_is_refused(mlcli, change):
    assert mlcli("tune", TITANIC, *QUICK, "--trials", "2", "-q").exit_code == 0
    res = mlcli("tune", TITANIC, *QUICK, "--trials", "2", "--resume", *change)
    assert_error(res, "--resume: no kept knn search of this data and target on these folds")
    assert "tuning knn" not in res.stderr  # refused before the search


def test_resume_with_nothing_kept(mlcli, monkeypatch):
    assert_error(mlcli("tune", TITANIC, *QUICK, "--resume"), "--resume: no search has been kept yet")
    monkeypatch.setenv("MLCLI_HISTORY", "0")
    assert_error(mlcli("tune", TITANIC, *QUICK, "--resume"), "which MLCLI_HISTORY=0 turns off")
