"""mlcli explain end to end: native and permutation importances, one row, leak warning, output, bad input.

Bundles are trained once per module on the sample data (small models, so the module stays fast).
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import SAMPLE, error_line
from conftest import cli as _cli

TITANIC = SAMPLE / "titanic.csv"
TITANIC_COLUMNS = {"Name", "Pclass", "Sex", "Age", "SibSp", "Parch"}  # PassengerId is dropped as an identifier
FAST = {"xgboost": ["n_estimators=60"], "lightgbm": ["n_estimators=60"], "catboost": ["iterations=60"],
        "rf": ["n_estimators=40"]}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Trains a bundle on first use: bundles(model, data=TITANIC, target='Survived')."""
    root = tmp_path_factory.mktemp("explain-bundles")
    made: dict[tuple, str] = {}

    def get(model: str, data=TITANIC, target: str = "Survived", *extra: str) -> str:
        key = (model, str(data), target, extra)
        if key not in made:
            out = root / f"{model}-{len(made)}"
            params = [a for p in FAST.get(model, []) for a in ("--param", p)]
            r = _cli("train", data, "--model", model, "--target", target, "--out", out, "-q", "-f", "json",
                     *params, *extra)
            assert r.exit_code == 0, r.stderr
            made[key] = str(out)
        return made[key]

    return get


def explain_json(*args: str) -> dict:
    r = _cli("explain", *args, "-f", "json", "-q")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def error_of(*args: str) -> str:
    return "mlcli: error: " + error_line(_cli("explain", *args))


# --------------------------------------------------------------------------------------------- native

def test_native_xgboost_gain_per_user_column(bundles):
    doc = explain_json(bundles("xgboost"))
    assert doc["method"] == "native" and doc["data"] is None
    names = [f["name"] for f in doc["features"]]
    assert set(names) == TITANIC_COLUMNS  # one-hot dummies and TF-IDF terms summed back to their column
    assert abs(sum(f["importance"] for f in doc["features"]) - 1) < 1e-6
    assert set(names[:2]) <= {"Sex", "Name", "Pclass"}
    assert all(set(f) >= {"name", "importance", "spread", "direction"} for f in doc["features"])
    imps = [f["importance"] for f in doc["features"]]
    assert imps == sorted(imps, reverse=True)
    assert "gain" in doc["methods"]["native"]["measure"]


def test_native_importance_type(bundles):
    gain = explain_json(bundles("xgboost"))["features"]
    split = explain_json(bundles("xgboost"), "--importance-type", "split")
    assert "split" in split["methods"]["native"]["measure"]
    assert {f["name"]: f["importance"] for f in gain} != {f["name"]: f["importance"] for f in split["features"]}
    lgb = explain_json(bundles("lightgbm"), "--importance-type", "split")
    assert "splits" in lgb["methods"]["native"]["measure"]


def test_native_logistic_coefficients_with_sign_and_odds_ratios(bundles):
    doc = explain_json(bundles("logreg"))
    feats = {f["name"]: f for f in doc["features"]}
    assert set(feats) == TITANIC_COLUMNS
    assert "standardised" in doc["methods"]["native"]["measure"]
    # women and first class survived more: higher Pclass lowers the log-odds of survival
    assert feats["Pclass"]["direction"] == "-"
    assert feats["Sex"]["direction"] == "highest for female"
    for term in feats["Sex"]["terms"] + feats["Pclass"]["terms"]:
        assert term["odds_ratio"] == pytest.approx(math.exp(term["coefficient"]), rel=1e-4)
    assert feats["Pclass"]["terms"][0]["feature"] == "Pclass" and feats["Pclass"]["terms"][0]["coefficient"] < 0
    assert {t["feature"] for t in feats["Sex"]["terms"]} == {"Sex=female", "Sex=male"}


def test_native_sklearn_tree_impurity(bundles):
    doc = explain_json(bundles("rf"))
    assert "impurity" in doc["methods"]["native"]["measure"]
    assert set(f["name"] for f in doc["features"]) == TITANIC_COLUMNS


def test_native_linear_svm_unwraps_calibration(bundles):
    doc = explain_json(bundles("svm-linear"))
    assert {f["name"] for f in doc["features"]} == TITANIC_COLUMNS
    assert "odds_ratio" not in doc["features"][0]["terms"][0]


@pytest.mark.parametrize("model", ["knn", "svm"])
def test_native_on_a_model_without_importances_is_an_error(bundles, model):
    msg = error_of(bundles(model), "--method", "native")
    assert f"model '{model}' has no native feature importances" in msg
    assert "--method permutation" in msg


def test_default_method_falls_back_to_permutation(bundles):
    r = _cli("explain", bundles("knn"), TITANIC, "-f", "json", "--repeats", "2")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["method"] == "permutation"
    assert "no native importances: using --method permutation" in r.stderr
    msg = error_of(bundles("knn"))  # no DATA to fall back on
    assert "give labelled DATA" in msg


def test_train_report_uses_the_same_native_importances(bundles, tmp_path):
    from mlcli.explain.native import native_importances
    from mlcli.models.bundle import load_bundle

    b = load_bundle(bundles("logreg"))
    compact = native_importances(b.pipeline)
    assert [i["feature"] for i in compact] == [f["name"] for f in explain_json(bundles("logreg"))["features"]]
    assert abs(sum(i["importance"] for i in compact) - 1) < 1e-4


# --------------------------------------------------------------------------------------------- permutation

def test_permutation_on_raw_columns(bundles):
    doc = explain_json(bundles("xgboost"), TITANIC, "--method", "permutation", "--repeats", "3")
    res = doc["methods"]["permutation"]
    assert res["metric"] == "roc_auc" and res["repeats"] == 3 and res["rows"] == 1309
    assert 0.8 < res["baseline"] <= 1.0
    names = [f["name"] for f in doc["features"]]
    assert set(names) == TITANIC_COLUMNS  # Sex (one-hot) and Name (TF-IDF) are shuffled as one column each
    assert set(names[:3]) <= {"Sex", "Pclass", "Name", "Age"}
    top = doc["features"][0]
    assert top["importance"] > 0.03 and 0 <= top["spread"] < top["importance"]
    assert doc["features"][-1]["importance"] < 0.02


def test_permutation_is_reproducible_with_a_seed(bundles):
    a = explain_json(bundles("logreg"), TITANIC, "-m", "permutation", "--repeats", "2", "--seed", "3")
    b = explain_json(bundles("logreg"), TITANIC, "-m", "permutation", "--repeats", "2", "--seed", "3")
    assert a["features"] == b["features"]


def test_permutation_regression_in_rmse(bundles, small_regression):
    doc = explain_json(bundles("ridge", small_regression, "target"), small_regression, "-m", "permutation")
    res = doc["methods"]["permutation"]
    assert res["metric"] == "rmse"
    assert [f["name"] for f in doc["features"]][:2] == ["a", "b"]  # y = 3a - 2b + 2*(grp == p)
    assert "increase in rmse" in res["measure"]


def test_permutation_multiclass_in_f1_macro(bundles):
    iris = SAMPLE / "iris.csv"
    doc = explain_json(bundles("logreg", iris, "species"), iris, "-m", "permutation", "--repeats", "2")
    assert doc["methods"]["permutation"]["metric"] == "f1_macro"
    assert doc["features"][0]["name"].startswith("petal")


# --------------------------------------------------------------------------------------------- one row

def test_row_explanation_adds_up(bundles):
    doc = explain_json(bundles("xgboost"), TITANIC, "--row", "3")
    assert doc["row"] == 3 and doc["values"]["Sex"] == "male" and doc["actual"] == 0
    assert doc["explained"] == "log-odds of Survived=1"
    total = doc["base_value"] + sum(c["contribution"] for c in doc["contributions"])
    assert total == pytest.approx(doc["output_value"], abs=1e-4)
    p1 = doc["probabilities"]["1"]
    assert doc["output_value"] == pytest.approx(math.log(p1 / (1 - p1)), abs=1e-3)
    sizes = [abs(c["contribution"]) for c in doc["contributions"]]
    assert sizes == sorted(sizes, reverse=True)
    assert {c["name"] for c in doc["contributions"]} == TITANIC_COLUMNS


def test_where_selects_the_first_matching_row(bundles):
    r = _cli("explain", bundles("xgboost"), TITANIC, "--where", "Sex=female", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["row"] == 0 and doc["values"]["Sex"] == "female"
    assert "rows have Sex=female; explaining the first (row 0)" in r.stderr
    doc = explain_json(bundles("xgboost"), TITANIC, "--where", "Age=2")
    assert doc["values"]["Age"] == 2


def test_row_table_shows_signed_bars(bundles):
    r = _cli("explain", bundles("xgboost"), TITANIC, "--row", "0", "-f", "table")
    assert r.exit_code == 0, r.stderr
    assert "Contributions to the log-odds of Survived=1" in r.stdout
    assert "│█" in r.stdout or "█│" in r.stdout
    assert "base value" in r.stdout


def test_row_of_a_multiclass_model_explains_the_predicted_class(bundles):
    iris = SAMPLE / "iris.csv"
    doc = explain_json(bundles("xgboost", iris, "species"), iris, "--row", "120")
    assert doc["explained"] == f"raw score of species={doc['prediction']}"
    total = doc["base_value"] + sum(c["contribution"] for c in doc["contributions"])
    assert total == pytest.approx(doc["output_value"], abs=1e-4)


# --------------------------------------------------------------------------------------------- leak warning

@pytest.fixture(scope="module")
def leaky(tmp_path_factory) -> str:
    """Titanic plus 'status': the target under another name, as words, with 1 % of rows flipped."""
    df = pd.read_csv(TITANIC)
    rng = np.random.default_rng(0)
    flip = rng.random(len(df)) < 0.01
    df["status"] = np.where(df["Survived"].to_numpy() ^ flip, "alive", "dead")
    path = tmp_path_factory.mktemp("leak") / "titanic_leak.csv"
    df.to_csv(path, index=False)
    return str(path)


def test_leak_warning_for_a_renamed_copy_of_the_target(bundles, leaky):
    bundle = bundles("xgboost", leaky)
    r = _cli("explain", bundle, leaky, "-m", "permutation", "--repeats", "2", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["features"][0]["name"] == "status"
    leaks = [w for w in doc["warnings"] if "leak" in w]
    assert len(leaks) == 1 and "possible leak: column 'status'" in leaks[0]
    assert "alone predicts 'Survived'" in leaks[0]
    # explained on the file it was trained on: said, with the count
    assert doc["training_rows"]["count"] == 1047 and doc["training_rows"]["of"] == 1309
    assert "possible leak: column 'status'" in r.stderr  # visible even when stdout is piped
    table = _cli("explain", bundle, leaky, "-m", "native", "-f", "table")
    assert "warning:" in table.stdout and "status" in table.stdout


def test_no_leak_warning_on_honest_data(bundles):
    doc = explain_json(bundles("xgboost"), TITANIC, "-m", "permutation", "--repeats", "2")
    assert [w for w in doc["warnings"] if "leak" in w] == []


# --------------------------------------------------------------------------------------------- output

def test_piped_output_is_json(bundles):
    r = _cli("explain", bundles("xgboost"))
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["command"] == "explain" and doc["features"][0]["name"]


def test_table_has_inline_bars(bundles):
    r = _cli("explain", bundles("logreg"), "-f", "table")
    assert r.exit_code == 0, r.stderr
    assert "Native importances" in r.stdout and "█" in r.stdout and "Pclass" in r.stdout
    assert "odds ×" in r.stdout


def test_csv_output(bundles):
    r = _cli("explain", bundles("xgboost"), "-f", "csv")
    assert r.exit_code == 0
    rows = r.stdout.strip().splitlines()
    assert rows[0] == "name,importance,spread,direction,share" and len(rows) == 1 + len(TITANIC_COLUMNS)


def test_method_all_compares_methods_and_plots(bundles, tmp_path):
    png = tmp_path / "imp.png"
    r = _cli("explain", bundles("xgboost"), TITANIC, "-m", "all", "--repeats", "2", "--plot", png, "-f", "table")
    assert r.exit_code == 0, r.stderr
    assert "Importance by method" in r.stdout and "permutation" in r.stdout and "shap" in r.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = explain_json(bundles("xgboost"), TITANIC, "-m", "all", "--repeats", "2")
    assert set(doc["methods"]) == {"native", "permutation", "shap"}
    assert doc["features"] == doc["methods"]["shap"]["features"]


def test_row_plot(bundles, tmp_path):
    png = tmp_path / "row.png"
    r = _cli("explain", bundles("xgboost"), TITANIC, "--row", "5", "--plot", png, "-q", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_stdin_data(bundles):
    r = _cli("explain", bundles("xgboost"), "-", "--row", "1", "-f", "json", input=TITANIC.read_text())
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["data"] == "<stdin>"


# --------------------------------------------------------------------------------------------- bad input

def test_permutation_without_data(bundles):
    msg = error_of(bundles("xgboost"), "--method", "permutation")
    assert "--method permutation needs labelled DATA" in msg and "'Survived'" in msg


def test_permutation_on_unlabelled_data(bundles, tmp_path):
    pd.read_csv(TITANIC).drop(columns=["Survived"]).to_csv(tmp_path / "new.csv", index=False)
    msg = error_of(bundles("xgboost"), tmp_path / "new.csv", "--method", "permutation")
    assert "needs labelled data: target column 'Survived' not found in" in msg


def test_shap_without_data(bundles):
    msg = error_of(bundles("xgboost"), "--method", "shap")
    assert "--method shap needs DATA" in msg
    assert "needs labelled DATA" in error_of(bundles("xgboost"), "--method", "all")


def test_row_out_of_range(bundles):
    msg = error_of(bundles("xgboost"), TITANIC, "--row", "5000")
    assert "--row 5000 is out of range" in msg and "1309 row(s), numbered 0 to 1308" in msg
    assert "out of range" in error_of(bundles("xgboost"), TITANIC, "--row", "-1")


def test_columns_not_matching_the_bundle(bundles, tmp_path):
    pd.read_csv(TITANIC).drop(columns=["Sex", "Age"]).to_csv(tmp_path / "short.csv", index=False)
    msg = error_of(bundles("xgboost"), tmp_path / "short.csv", "-m", "shap")
    assert "missing 2 column(s) the model was trained on" in msg and "Sex" in msg and "Age" in msg


@pytest.mark.parametrize("args, expected", [
    (["-m", "shapley"], "unknown --method 'shapley' (did you mean 'shap'?)"),
    (["-m", "permutation", "--row", "1"], "--row/--where explain one prediction with SHAP"),
    (["--row", "1", "--where", "Sex=male"], "give --row or --where, not both"),
    (["--where", "Sex"], "--where expects COLUMN=VALUE"),
    (["--where", "Sexx=male"], "--where column 'Sexx' not found in"),
    (["--where", "Sex=unknown"], "no row of"),
    (["--importance-type", "weight"], "unknown --importance-type 'weight'"),
    (["--plot", "out.txt"], "--plot out.txt: give a file ending in .png"),
    (["--plot", "nodir/out.png"], "directory nodir does not exist"),
])
def test_bad_options(bundles, args, expected):
    assert expected in error_of(bundles("xgboost"), TITANIC, *args)


def test_importance_type_on_a_model_without_it(bundles):
    assert "--importance-type applies to xgboost and lightgbm" in error_of(bundles("logreg"), "--importance-type",
                                                                          "gain")


def test_bundle_not_found():
    assert "model bundle not found" in error_of("no/such/bundle")


def test_missing_shap_package_gives_the_install_line(bundles, monkeypatch):
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap -> ImportError
    msg = error_of(bundles("rf"), TITANIC, "-m", "shap")
    assert "needs the 'shap' package" in msg and "pip install 'mlcli[explain]'" in msg


def test_missing_matplotlib_gives_the_install_line(bundles, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    msg = error_of(bundles("xgboost"), "--plot", tmp_path / "x.png")
    assert "--plot needs the 'matplotlib' package" in msg and "pip install 'mlcli[explain]'" in msg


def test_explain_help_imports_nothing_heavy():
    import subprocess

    code = ("import sys\nsys.argv = ['mlcli', 'explain', '--help']\nfrom mlcli.cli.app import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('MODULES=' + ','.join(sorted({m.split('.')[0] for m in sys.modules})))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "--method" in proc.stdout
    loaded = set(proc.stderr.rsplit("MODULES=", 1)[1].split(","))
    assert not loaded & {"pandas", "numpy", "sklearn", "xgboost", "shap", "matplotlib", "lightgbm", "catboost"}


def test_method_all_runs_what_the_model_and_data_allow(bundles, tmp_path):
    r = _cli("explain", bundles("knn"), TITANIC, "-m", "all", "--repeats", "1", "--sample", "20",
             "--background", "10", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert set(json.loads(r.stdout)["methods"]) == {"permutation", "shap"}
    assert "model 'knn' has no native importances; skipping them" in r.stderr
    pd.read_csv(TITANIC).drop(columns=["Survived"]).to_csv(tmp_path / "new.csv", index=False)
    r = _cli("explain", bundles("xgboost"), tmp_path / "new.csv", "-m", "all", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert set(json.loads(r.stdout)["methods"]) == {"native", "shap"}
    assert "DATA has no target column 'Survived': skipping permutation importance" in r.stderr


def test_unscaled_linear_model_coefficients_are_standardised_with_data(bundles):
    bundle = bundles("logreg", TITANIC, "Survived", "--scale", "none")
    without = explain_json(bundle)["methods"]["native"]
    assert "not standardised: give DATA" in without["measure"]
    with_data = explain_json(bundle, TITANIC, "-m", "native")["methods"]["native"]
    assert "on standardised numeric features" in with_data["measure"]
    age = {f["name"]: f for f in with_data["features"]}["Age"]["terms"][0]
    raw = {f["name"]: f for f in without["features"]}["Age"]["terms"][0]
    assert abs(age["coefficient"]) > 5 * abs(raw["coefficient"])  # per SD (about 14 years), not per year
