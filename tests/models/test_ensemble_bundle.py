"""Ensembles of whole mlcli pipelines in a bundle: boosters inside members keep their own format, the bundle
round-trips with identical predictions, tampering is refused, and predict / evaluate / inspect / explain
accept it. Real data: scikit-learn's bundled breast cancer, wine and diabetes sets, written to CSV."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.model_selection import StratifiedKFold

from mlcli.data.dataset import DataOptions, encode_classes, load_dataset
from mlcli.errors import BundleError
from mlcli.experiments.auto.ensemble import fit_stacker, oof_score, select_ensemble
from mlcli.models.build import ModelConfig, build_pipeline
from mlcli.models.bundle import load_bundle, save_bundle
from mlcli.models.ensemble import (
    EnsembleClassifier,
    EnsembleRegressor,
    as_pipeline,
    from_fitted,
    make_ensemble,
)
from mlcli.models.persist import trusted_types, types_in, untrusted_types

from conftest import assert_error


def _data(tmp: Path, name: str):
    loader = {"cancer": datasets.load_breast_cancer, "wine": datasets.load_wine,
              "diabetes": datasets.load_diabetes}[name]
    path = tmp / f"{name}.csv"
    loader(as_frame=True).frame.to_csv(path, index=False)
    ds = load_dataset(DataOptions(str(path), target="target",
                                  task="regression" if name == "diabetes" else None))
    y, classes = encode_classes(ds)
    return path, ds, y, classes


def _config(model: str) -> ModelConfig:
    params = {"xgboost": {"n_estimators": 30}, "lightgbm": {"n_estimators": 30}}.get(model, {})
    return ModelConfig(model, params, seed=0, n_threads=1)


def _save(tmp: Path, pipeline, ds, classes) -> Path:
    meta = {"model": "ensemble", "task": ds.task, "target": ds.schema.target, "classes": classes,
            "threshold": 0.5 if ds.task == "binary" else None, "schema": ds.schema.to_dict()}
    return save_bundle(tmp / "bundle", pipeline, meta)


@pytest.fixture(scope="module")
def cancer_bundle(tmp_path_factory):
    """XGBoost, logistic regression and LightGBM refitted on every row, weighted 0.5 / 0.3 / 0.2."""
    tmp = tmp_path_factory.mktemp("cancer")
    path, ds, y, classes = _data(tmp, "cancer")
    members = [build_pipeline(ds.schema, _config(m)) for m in ("xgboost", "logreg", "lightgbm")]
    ensemble = make_ensemble(ds.task, members, [0.5, 0.3, 0.2], ["xgboost", "logreg", "lightgbm"]).fit(ds.X, y)
    return path, ds, y, ensemble, _save(tmp, as_pipeline(ensemble), ds, classes)


def test_a_refitted_ensemble_round_trips_with_identical_predictions(cancer_bundle):
    _, ds, y, ensemble, folder = cancer_bundle
    assert isinstance(ensemble, EnsembleClassifier) and list(ensemble.classes_) == [0, 1]
    proba = ensemble.predict_proba(ds.X)
    members = [folds[0].predict_proba(ds.X) for folds in ensemble.members_]
    np.testing.assert_allclose(proba, 0.5 * members[0] + 0.3 * members[1] + 0.2 * members[2], rtol=1e-12)
    assert oof_score(y, proba, "binary", "roc_auc") > 0.99  # training rows: a sanity check, not a score
    meta = json.loads((folder / "mlcli.json").read_text())
    assert [(b["library"], b["member"]) for b in meta["boosters"]] == [("xgboost", [0, 0]), ("lightgbm", [2, 0])]
    assert {"booster-0.ubj", "booster-1.txt"} <= set(meta["files"])
    names = types_in(folder / "pipeline.skops")
    assert "mlcli.models.ensemble.EnsembleClassifier" in names and "mlcli.models.ensemble.EnsembleClassifier" in \
        trusted_types() and untrusted_types(folder / "pipeline.skops") == []
    loaded = load_bundle(folder).pipeline
    np.testing.assert_array_equal(loaded.predict_proba(ds.X), proba)
    np.testing.assert_array_equal(loaded.predict(ds.X), ensemble.predict(ds.X))
    assert loaded.steps[-1][1].names_ == ["xgboost", "logreg", "lightgbm"]


def test_bagged_fold_models_with_a_stacker_round_trip(tmp_path):
    """Wine (3 classes): LightGBM and logistic regression fitted on 3 folds each; the greedy weights and the
    stacker chosen on their out-of-fold probabilities; the fold models kept as the final model."""
    _, ds, y, _ = _data(tmp_path, "wine")
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(ds.X, y))
    names = ["lightgbm", "logreg"]
    models, oof = {n: [] for n in names}, {n: np.zeros((len(y), 3)) for n in names}
    for train, test in folds:
        for n in names:
            pipe = build_pipeline(ds.schema, _config(n)).fit(ds.X.iloc[train], y[train])
            models[n].append(pipe)
            oof[n][test] = pipe.predict_proba(ds.X.iloc[test])
    selection = select_ensemble(oof, y, "multiclass", "log_loss")
    stacked = fit_stacker(oof, y, "multiclass", "log_loss")
    weights = [selection.weights[n] for n in names]
    bagged = from_fitted("multiclass", [models[n] for n in names], weights, names, n_classes=3)
    by_hand = sum(w * np.mean([m.predict_proba(ds.X) for m in models[n]], axis=0) for n, w in zip(names, weights)
                  if w > 0)
    np.testing.assert_allclose(bagged.predict_proba(ds.X), by_hand, rtol=1e-12)
    with_stacker = from_fitted("multiclass", [models[n] for n in names], None, names, stacker=stacked.model,
                               n_classes=3)
    proba = with_stacker.predict_proba(ds.X)
    assert proba.shape == (len(y), 3) and np.allclose(proba.sum(axis=1), 1.0)
    meta_classes = [int(c) for c in range(3)]
    folder = _save(tmp_path, as_pipeline(with_stacker), ds, meta_classes)
    meta = json.loads((folder / "mlcli.json").read_text())
    assert [b["member"] for b in meta["boosters"]] == [[0, 0], [0, 1], [0, 2]]  # LightGBM's three fold models
    np.testing.assert_array_equal(load_bundle(folder).pipeline.predict_proba(ds.X), proba)


def test_a_regression_ensemble_with_an_xgboost_member_round_trips(tmp_path):
    _, ds, y, _ = _data(tmp_path, "diabetes")
    members = [build_pipeline(ds.schema, _config(m)) for m in ("xgboost", "ridge")]
    ensemble = make_ensemble("regression", members, [2, 1]).fit(ds.X, y)
    assert isinstance(ensemble, EnsembleRegressor) and ensemble.names_ == ["member 1", "member 2"]
    pred = ensemble.predict(ds.X)
    np.testing.assert_allclose(pred, (2 * members[0].fit(ds.X, y).predict(ds.X)
                                      + members[1].fit(ds.X, y).predict(ds.X)) / 3, rtol=1e-9)
    folder = _save(tmp_path, as_pipeline(ensemble), ds, [])
    np.testing.assert_array_equal(load_bundle(folder).pipeline.predict(ds.X), pred)


def test_members_of_weight_zero_are_not_kept(tmp_path):
    _, ds, y, _ = _data(tmp_path, "wine")
    members = [build_pipeline(ds.schema, _config(m)) for m in ("logreg", "tree", "nb-gaussian")]
    ensemble = make_ensemble("multiclass", members, [0.0, 0.0, 1.0], ["logreg", "tree", "nb"]).fit(ds.X, y)
    assert ensemble.names_ == ["nb"] and list(ensemble.weights_) == [1.0]
    np.testing.assert_array_equal(ensemble.predict_proba(ds.X), members[2].fit(ds.X, y).predict_proba(ds.X))
    with pytest.raises(Exception, match="needs 3 non-negative weights with a positive sum"):
        make_ensemble("multiclass", members, [0.0, -1.0, 1.0]).fit(ds.X, y)


# --------------------------------------------------------------------------------------------- refusals

def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_a_changed_booster_of_a_member_is_refused(cancer_bundle, tmp_path):
    folder = _copy(cancer_bundle[-1], tmp_path / "b")
    with open(folder / "booster-1.txt", "a") as fh:
        fh.write("\n")
    with pytest.raises(BundleError, match="booster-1.txt does not match the sha256 recorded in mlcli.json"):
        load_bundle(folder)


def test_a_booster_placed_in_a_member_the_ensemble_lacks_is_refused(cancer_bundle, tmp_path):
    folder = _copy(cancer_bundle[-1], tmp_path / "b")
    meta = json.loads((folder / "mlcli.json").read_text())
    meta["boosters"][0]["member"] = [9, 0]
    (folder / "mlcli.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match=r"places a booster in ensemble member \[9, 0\], which the pipeline does "
                                          "not have; nothing was loaded"):
        load_bundle(folder)


def test_an_untrusted_type_inside_a_member_is_refused_and_never_built(cancer_bundle, tmp_path):
    """The ensemble's member list edited to build os.system (its hash recorded too, as an attacker would)."""
    folder = _copy(cancer_bundle[-1], tmp_path / "b")
    path = folder / "pipeline.skops"
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    text = members["schema.json"].decode()
    assert text.count('"__class__": "EnsembleClassifier"') == 1
    schema = json.loads(text)
    schema["content"]["content"]["memory"] = {"__class__": "system", "__module__": "os", "__loader__": "TypeNode",
                                              "__id__": 1}
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    meta = json.loads((folder / "mlcli.json").read_text())
    meta["files"]["pipeline.skops"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / "mlcli.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="would build os.system, which mlcli does not trust; nothing was loaded"):
        load_bundle(folder)


# --------------------------------------------------------------------------------------------- commands

def test_predict_evaluate_inspect_and_explain_accept_an_ensemble_bundle(mlcli, cancer_bundle, tmp_path):
    path, ds, y, ensemble, folder = cancer_bundle
    rows = pd.read_csv(path).iloc[::4]  # 143 rows: enough for permutation importance, quick to explain
    rows.to_csv(tmp_path / "rows.csv", index=False)
    r = mlcli("predict", folder, tmp_path / "rows.csv", "-f", "csv")
    assert r.exit_code == 0, r.stderr
    predicted = pd.read_csv(pd.io.common.StringIO(r.stdout))
    assert len(predicted) == len(rows)
    expected = ensemble.predict_proba(ds.X.iloc[::4])[:, 1]
    proba = predicted[[c for c in predicted.columns if c.endswith("1")][-1]].to_numpy()
    np.testing.assert_allclose(proba, expected, atol=1e-6)
    r = mlcli("evaluate", folder, tmp_path / "rows.csv", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["metrics"]["roc_auc"] > 0.98
    r = mlcli("inspect", folder, "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["model"] == "ensemble" and all(t["trusted"] for t in doc["types"])
    assert "mlcli.models.ensemble.EnsembleClassifier" in {t["type"] for t in doc["types"]}
    r = mlcli("explain", folder, tmp_path / "rows.csv", "--repeats", "2", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert "has no native importances: using --method permutation" in r.stderr
    features = json.loads(r.stdout)["methods"]["permutation"]["features"]
    assert len(features) == 30 and features[0]["importance"] > 0
    assert_error(mlcli("explain", folder, tmp_path / "rows.csv", "--method", "native"),
                 "model 'ensemble' has no native feature importances; use --method permutation")


def test_a_fine_tuned_transformer_member_keeps_its_weights_beside_the_pipeline(tmp_path, tiny_bert):
    """GENERATED reviews (conftest.review_frame) and the tiny random BERT: the member's weights go to
    safetensors files in the bundle, never into the pipeline file, and come back on loading."""
    from conftest import review_frame

    review_frame(120).drop(columns=["stars", "id"]).to_csv(tmp_path / "reviews.csv", index=False)
    ds = load_dataset(DataOptions(str(tmp_path / "reviews.csv"), target="score", text=["review"]))
    y, classes = encode_classes(ds)
    bert = ModelConfig("transformer", {"base_model": str(tiny_bert), "epochs": 1, "verbose": 0}, seed=0,
                       n_threads=1)
    members = [build_pipeline(ds.schema, bert), build_pipeline(ds.schema, _config("logreg"))]
    ensemble = make_ensemble(ds.task, members, [0.5, 0.5], ["transformer", "logreg"]).fit(ds.X, y)
    proba = ensemble.predict_proba(ds.X)
    folder = _save(tmp_path, as_pipeline(ensemble), ds, classes)
    files = json.loads((folder / "mlcli.json").read_text())["files"]
    assert any(name.startswith("model/member-0-0-model/") and name.endswith(".safetensors") for name in files)
    assert "torch" not in " ".join(types_in(folder / "pipeline.skops"))
    np.testing.assert_allclose(load_bundle(folder).pipeline.predict_proba(ds.X), proba, atol=1e-6)
