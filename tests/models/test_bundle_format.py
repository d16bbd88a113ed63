"""Bundles that never run code on load: only trusted types are built, every file's hash is checked, the old
pickle format is refused unless trusted explicitly, and a malicious file is never executed."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcli.data.roles import infer_schema
from mlcli.data.schema import prepare_frame
from mlcli.errors import BundleError
from mlcli.evaluation.scoring import predict_indices
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.bundle import load_bundle, save_bundle
from mlcli.models.persist import trusted_types, types_in
from mlcli.models.resamplers import RESAMPLERS

from conftest import assert_error


def _frame(task: str = "binary", n: int = 160, seed: int = 0):
    """GENERATED: numeric and categorical columns, an imbalanced binary target or a positive regression one."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 9, n).astype(float),
                       "c": rng.choice(["u", "v", "w"], n)})
    if task == "binary":
        df["y"] = ((df["a"] + (df["c"] == "u")) > 1.1).astype(int)
    else:
        df["y"] = np.exp(df["a"] + 0.2 * df["b"]) + 1
    schema = infer_schema(df, "y", task)
    return schema, prepare_frame(df, schema), df["y"].to_numpy()


def _round_trip(tmp_path: Path, config: ModelConfig, task: str = "binary") -> tuple[np.ndarray, np.ndarray]:
    schema, X, y = _frame(task)
    pipe = build_pipeline(schema, config).fit(X, y)
    meta = {"model": config.model, "task": task, "target": "y", "classes": [0, 1] if task == "binary" else [],
            "schema": schema.to_dict()}
    save_bundle(tmp_path / "b", pipe, meta)
    loaded = load_bundle(tmp_path / "b")
    return predict_indices(pipe, X, task)[0], predict_indices(loaded.pipeline, X, task)[0]


@pytest.mark.parametrize("method", sorted(RESAMPLERS))
def test_every_resampler_pipeline_saves_and_loads(tmp_path, method):
    if method == "smote-n":
        pytest.skip("SMOTE-N takes all-categorical data only (covered by the resampler battery)")
    model = "tree" if method == "smote-nc" else "logreg"
    before, after = _round_trip(tmp_path, ModelConfig(model, balance=method, seed=0, n_threads=1))
    np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("model, extra", [
    ("xgboost", {"class_weight": "balanced"}), ("lightgbm", {"class_weight": "balanced"}),
    ("catboost", {"class_weight": "balanced"}), ("mlp", {"class_weight": "balanced"}),
])
def test_boosters_inside_mlcli_wrappers_keep_their_own_format(tmp_path, model, extra):
    params = {"catboost": {"iterations": 30}, "mlp": {"max_iter": 100}}.get(model, {"n_estimators": 30})
    before, after = _round_trip(tmp_path, ModelConfig(model, params, seed=0, n_threads=1, **extra))
    np.testing.assert_array_equal(before, after)
    files = set(json.loads((tmp_path / "b" / "mlcli.json").read_text())["files"])
    native = {"xgboost": "booster-0.ubj", "lightgbm": "booster-0.txt", "catboost": "booster-0.cbm"}.get(model)
    assert native is None or native in files


@pytest.mark.parametrize("model", ["xgboost", "lightgbm", "catboost", "svm", "sgd"])
def test_log_target_and_scaled_targets_round_trip(tmp_path, model):
    params = {"catboost": {"iterations": 30}}.get(model, {"n_estimators": 30} if model in ("xgboost", "lightgbm")
                                                   else {})
    before, after = _round_trip(tmp_path, ModelConfig(model, params, seed=0, n_threads=1, log_target=True),
                                "regression")
    np.testing.assert_allclose(before, after)


def test_every_type_in_a_bundle_is_trusted_and_derived_from_the_registries(tmp_path):
    _round_trip(tmp_path, ModelConfig("rf", {"n_estimators": 5}, seed=0, n_threads=1))
    names = types_in(tmp_path / "b" / "pipeline.skops")
    assert "sklearn.ensemble._forest.RandomForestClassifier" in names
    assert "mlcli.features.onehot.CategoryOneHot" in trusted_types()
    assert "sklearn.ensemble._forest.RandomForestClassifier" in trusted_types()  # from the model registry
    assert "imblearn.over_sampling._smote.base.SMOTE" in trusted_types()  # from the resampler registry


# --------------------------------------------------------------------------------------------- refusals

def _bundle(tmp_path: Path) -> Path:
    _round_trip(tmp_path, ModelConfig("logreg", seed=0, n_threads=1))
    return tmp_path / "b"


def _rehash(folder: Path, name: str) -> None:
    meta = json.loads((folder / "mlcli.json").read_text())
    meta["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "mlcli.json").write_text(json.dumps(meta))


def test_a_changed_file_is_refused_before_anything_is_built(tmp_path):
    folder = _bundle(tmp_path)
    with open(folder / "pipeline.skops", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(BundleError, match="pipeline.skops does not match the sha256 recorded in mlcli.json"):
        load_bundle(folder)


def test_a_type_outside_the_trusted_set_is_refused_and_never_built(tmp_path):
    """A pipeline file edited to build os.system (its hash recorded too, as an attacker would)."""
    folder = _bundle(tmp_path)
    path = folder / "pipeline.skops"
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    schema = json.loads(members["schema.json"])
    schema["content"]["content"]["memory"] = {"__class__": "system", "__module__": "os", "__loader__": "TypeNode",
                                              "__id__": 1}
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    _rehash(folder, "pipeline.skops")
    with pytest.raises(BundleError, match="would build os.system, which mlcli does not trust; nothing was loaded"):
        load_bundle(folder)


class _Evil:
    """A pickle that writes a marker file when it is loaded (a stand-in for any shell command)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _old_bundle(tmp_path: Path, payload) -> Path:
    schema, _, _ = _frame()
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "model.joblib").write_bytes(pickle.dumps(payload))
    (folder / "mlcli.json").write_text(json.dumps({"format_version": 1, "model": "logreg", "task": "binary",
                                                   "target": "y", "classes": [0, 1], "schema": schema.to_dict()}))
    return folder


def test_a_malicious_pickle_is_never_executed_without_trust_pickle(mlcli, tmp_path):
    marker = tmp_path / "pwned"
    folder = _old_bundle(tmp_path, _Evil(str(marker)))
    data = tmp_path / "d.csv"
    pd.DataFrame({"a": [0.1], "b": [1.0], "c": ["u"], "y": [1]}).to_csv(data, index=False)
    for argv in (["predict", folder, data], ["evaluate", folder, data], ["explain", folder, data]):
        message = assert_error(mlcli(*argv))
        assert "is an old bundle saved as a pickle" in message and "--trust-pickle" in message
    r = mlcli("inspect", folder, "-f", "json")  # inspect reads the description only, and says loading refuses it
    doc = json.loads(r.stdout)
    assert r.exit_code == 2 and "pickle" in doc["format"] and doc["verdict"] == "refused"
    assert "--trust-pickle" in r.stderr.strip().splitlines()[-1]
    assert not marker.exists()


def test_trust_pickle_loads_and_upgrade_rewrites_an_old_bundle(mlcli, tmp_path):
    schema, X, y = _frame()
    pipe = build_pipeline(schema, ModelConfig("logreg", seed=0, n_threads=1)).fit(X, y)
    folder = _old_bundle(tmp_path, pipe)
    data = tmp_path / "d.csv"
    _frame_csv = pd.DataFrame({"a": X["a"], "b": X["b"], "c": X["c"].astype(str), "y": y})
    _frame_csv.to_csv(data, index=False)
    r = mlcli("predict", folder, data, "--trust-pickle", "-f", "csv")
    assert r.exit_code == 0, r.stderr
    assert_error(mlcli("inspect", folder, "--upgrade"), "--upgrade reads the old bundle's pickle", "--trust-pickle")
    r = mlcli("inspect", folder, "--upgrade", "--trust-pickle", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["format_version"] == 3 and doc["upgraded"] and not (folder / "model.joblib").exists()
    again = mlcli("predict", folder, data, "-f", "csv")
    assert again.exit_code == 0 and again.stdout == mlcli("predict", folder, data, "-f", "csv").stdout


@pytest.mark.parametrize("change, message", [
    (lambda m: [m], "it is list, not an object"),
    (lambda m: {**m, "format_version": "abc"}, "'format_version' must be a whole number"),
    (lambda m: {k: v for k, v in m.items() if k != "schema"}, "lacks 'schema'"),
    (lambda m: {**m, "schema": {**m["schema"], "columns": None}}, "'schema.columns' must be a list"),
    (lambda m: {**m, "task": 3}, "'task' must be one of binary, multiclass, regression"),
    (lambda m: {**m, "classes": "yes,no"}, "'classes' must be a list"),
    (lambda m: {**m, "files": {"pipeline.skops": "abc"}}, "'files' records 'abc' for pipeline.skops, which is not a "
                                                          "sha256"),
    (lambda m: {**m, "format_version": 99}, "written by a newer mlcli (bundle format 99"),
])
def test_a_wrong_description_is_one_line_exit_2(mlcli, tmp_path, change, message):
    folder = _bundle(tmp_path)
    meta = json.loads((folder / "mlcli.json").read_text())
    (folder / "mlcli.json").write_text(json.dumps(change(meta)))
    data = tmp_path / "d.csv"
    pd.DataFrame({"a": [0.1], "b": [1.0], "c": ["u"], "y": [1]}).to_csv(data, index=False)
    assert_error(mlcli("predict", folder, data), message)
    r = mlcli("inspect", folder)  # the report (when the description can be read at all), then the same one line
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("mlcli: error: ") and message in r.stderr


def test_other_library_versions_load_with_one_warning(mlcli, tmp_path):
    folder = _bundle(tmp_path)
    meta = json.loads((folder / "mlcli.json").read_text())
    meta["libraries"] = {"scikit-learn": "0.0.1", "numpy": np.__version__}
    (folder / "mlcli.json").write_text(json.dumps(meta))
    data = tmp_path / "d.csv"
    pd.DataFrame({"a": [0.1], "b": [1.0], "c": ["u"], "y": [1]}).to_csv(data, index=False)
    r = mlcli("predict", folder, data, "-f", "csv")
    assert r.exit_code == 0
    warnings = [line for line in r.stderr.splitlines() if "other library versions" in line]
    assert len(warnings) == 1 and "scikit-learn 0.0.1 (now " in warnings[0] and "numpy" not in warnings[0]


def test_inspect_shows_what_a_bundle_holds_without_loading_it(mlcli, tmp_path):
    folder = _bundle(tmp_path)
    r = mlcli("inspect", folder, "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["model"] == "logreg" and doc["task"] == "binary" and doc["classes"] == [0, 1]
    files = {f["name"]: f for f in doc["files"]}
    assert files["pipeline.skops"]["ok"] is True and len(files["pipeline.skops"]["sha256"]) == 64
    assert all(t["trusted"] for t in doc["types"]) and doc["warnings"] == []
    assert "sklearn.linear_model._logistic.LogisticRegression" in {t["type"] for t in doc["types"]}
    table = mlcli("inspect", folder, "-f", "table")
    assert "Files" in table.stdout and "matches" in table.stdout
