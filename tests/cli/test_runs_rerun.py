"""mlcli runs rerun never writes over another run's bundle: a recorded --out / --save-best (or train's default
models/DATA-MODEL, when a bundle is there) becomes a fresh PATH-rerun-of-N unless the options after the id
give the path."""

from __future__ import annotations

import json
from pathlib import Path


def ok(result):
    assert result.exit_code == 0, result.stderr
    return result


def meta(path: str | Path) -> dict:
    return json.loads((Path(path) / "mlcli.json").read_text())


def show(mlcli, run_id: int) -> dict:
    return json.loads(ok(mlcli("runs", "show", str(run_id), "--format", "json")).stdout)


def test_a_rerun_with_another_model_keeps_the_recorded_bundle(mlcli, small_binary):
    ok(mlcli("train", small_binary, "--model", "logreg", "--out", "m1", "--format", "json", "--quiet"))
    before = (Path("m1") / "mlcli.json").read_bytes()
    r = ok(mlcli("runs", "rerun", "1", "--model", "tree", "--format", "json"))
    assert (Path("m1") / "mlcli.json").read_bytes() == before and meta("m1")["model"] == "logreg"
    new = Path("m1-rerun-of-1").resolve()
    assert json.loads(r.stdout)["bundle"] == str(new) and meta(new)["model"] == "tree"
    [notice] = [line for line in r.stderr.splitlines() if "rerun of run 1" in line]
    assert f"--out {new}" in notice and f"so that {Path('m1').resolve()} stays as it is" in notice
    assert show(mlcli, 2)["bundle"] == str(new) and show(mlcli, 1)["bundle"] == str(Path("m1").resolve())


def test_each_rerun_gets_its_own_path(mlcli, small_binary):
    ok(mlcli("train", small_binary, "--model", "logreg", "-o", "m1", "--format", "json", "--quiet"))
    ok(mlcli("runs", "rerun", "1", "--format", "json", "--quiet"))
    r = ok(mlcli("runs", "rerun", "1", "--format", "json", "--quiet"))
    assert json.loads(r.stdout)["bundle"] == str(Path("m1-rerun-of-1-2").resolve())
    assert show(mlcli, 3)["bundle"] == str(Path("m1-rerun-of-1-2").resolve())


def test_an_out_after_the_id_is_honoured(mlcli, small_binary):
    ok(mlcli("train", small_binary, "--model", "logreg", "--out", "m1", "--format", "json", "--quiet"))
    r = ok(mlcli("runs", "rerun", "1", "--out", "other", "--format", "json", "--quiet"))
    assert json.loads(r.stdout)["bundle"] == "other" and meta("other")["model"] == "logreg"
    r = ok(mlcli("runs", "rerun", "1", "-o", "m1", "--model", "tree", "--format", "json"))  # asked for: overwritten
    assert meta("m1")["model"] == "tree" and "rerun-of" not in r.stderr and "stays as it is" not in r.stderr


def test_the_default_path_is_kept_when_a_bundle_is_there(mlcli, small_binary):
    ok(mlcli("train", small_binary, "--model", "logreg", "--format", "json", "--quiet"))
    default = Path("models") / "small_binary-logreg"
    before = (default / "mlcli.json").read_bytes()
    r = ok(mlcli("runs", "rerun", "1", "--param", "C=0.1", "--format", "json", "--quiet"))
    assert (default / "mlcli.json").read_bytes() == before
    assert json.loads(r.stdout)["bundle"] == str(Path("models") / "small_binary-logreg-rerun-of-1")
    r = ok(mlcli("runs", "rerun", "1", "--model", "tree", "--format", "json", "--quiet"))  # nothing there yet
    assert json.loads(r.stdout)["bundle"] == str(Path("models") / "small_binary-tree")


def test_a_cv_rerun_keeps_the_saved_best_model(mlcli, small_binary):
    ok(mlcli("cv", small_binary, "--models", "logreg", "--folds", "2", "--save-best", "best", "--format", "json",
             "--quiet"))
    before = (Path("best") / "mlcli.json").read_bytes()
    r = ok(mlcli("runs", "rerun", "1", "--folds", "3", "--format", "json", "--quiet"))
    assert (Path("best") / "mlcli.json").read_bytes() == before
    saved = json.loads(r.stdout)["saved"]
    assert Path(saved).resolve() == Path("best-rerun-of-1").resolve() and (Path(saved) / "mlcli.json").exists()
    r = ok(mlcli("runs", "rerun", "1", "--save-best", "best", "--folds", "3", "--format", "json", "--quiet"))
    assert Path(json.loads(r.stdout)["saved"]).resolve() == Path("best").resolve()
    assert (Path("best") / "mlcli.json").read_bytes() != before
