"""Classes of a single row (GENERATED, shaped like the gauntlet's rodent surveys: 35 species codes, 4 seen once):
multiclass `train` keeps them in the training rows with a warning instead of refusing the file; the model knows
every class. A binary target with a one-row class is still refused (exit 2), and a file without such classes
is quiet."""

from __future__ import annotations

import json

import numpy as np


def _species(path, singles=("CS", "UL")):
    rng = np.random.default_rng(3)
    lines = ["weight,hindfoot,species"]
    for code, centre in (("DM", 40), ("DO", 50), ("PP", 20)):
        for _ in range(60):
            lines.append(f"{centre + rng.normal(0, 4):.1f},{centre / 2 + rng.normal(0, 2):.1f},{code}")
    for code in singles:
        lines.append(f"{rng.uniform(5, 60):.1f},{rng.uniform(5, 30):.1f},{code}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_single_row_classes_are_learned_not_held_out(tmp_path, mlcli):
    path = _species(tmp_path / "rodents.csv")
    r = mlcli("train", path, "--target", "species", "--model", "logreg", "--no-leak-check", "-o", "b", "-f", "json")
    assert r.exit_code == 0, r.stderr
    line = ("2 class(es) with a single row ('CS', 'UL'): kept in the training rows, so the model learns them, but "
            "none is held out, so the held-out metrics do not score them")
    assert f"mlcli: warning: {line}" in r.stderr.splitlines()
    doc = json.loads(r.stdout)
    assert line in doc["warnings"]
    assert doc["rows"]["train"] + doc["rows"]["test"] == 182 and doc["metrics"]["f1_macro"] > 0.8
    p = mlcli("predict", "b", path, "-f", "json")
    assert p.exit_code == 0, p.stderr
    assert {"proba_CS", "proba_UL"} <= set(json.loads(p.stdout)[0])


def test_without_single_row_classes_it_is_quiet(tmp_path, mlcli):
    path = _species(tmp_path / "rodents.csv", singles=())
    r = mlcli("train", path, "--target", "species", "--model", "logreg", "--no-leak-check", "-f", "json")
    assert r.exit_code == 0 and "single row" not in r.stderr


def test_binary_with_a_one_row_class_is_still_refused(tmp_path, mlcli):
    path = tmp_path / "b.csv"
    path.write_text("x,y\n" + "\n".join(f"{i % 7}.5,{'a' if i else 'b'}" for i in range(30)) + "\n")
    r = mlcli("train", path, "--target", "y", "--task", "binary", "--model", "logreg")
    assert r.exit_code == 2 and "class too small for a stratified hold-out split: 'b' has 1" in r.stderr


def test_cv_and_auto_leave_single_row_classes_out_and_say_so(tmp_path, mlcli):
    path = _species(tmp_path / "rodents.csv")
    line = ("mlcli: warning: 2 class(es) with a single row ('CS', 'UL'): left out of cross-validation, which trains "
            "on part of a class's rows and scores the rest; `train` keeps them in its training rows")
    r = mlcli("cv", path, "--target", "species", "--models", "logreg", "--no-leak-check", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert line in r.stderr.splitlines()
    doc = json.loads(r.stdout)
    assert doc["folds"] == 5 and doc["rows"] == 180 and doc["leaderboard"][0]["score"] > 0.8
    assert line.removeprefix("mlcli: warning: ") in doc["warnings"]
    a = mlcli("auto", path, "--target", "species", "--time-limit", "20", "--preset", "fast", "--candidates", "1",
              "--no-leak-check", "--out", tmp_path / "m", "-f", "json")
    assert a.exit_code == 0, a.stderr
    assert line.replace("of cross-validation", "of auto's cross-validation") in a.stderr.splitlines()
    q = mlcli("cv", _species(tmp_path / "plain.csv", singles=()), "--target", "species", "--models", "logreg",
              "--no-leak-check", "-q")
    assert q.exit_code == 0 and "single row" not in q.stderr
