"""Choosing the target: by name, by plausibility, or by asking — never a silent wrong guess."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from mlcli.data.target import choose_target, normalise

from conftest import SAMPLE, assert_error


def kaggle_titanic(path) -> str:
    """The Kaggle layout (PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked) built
    from the real passengers of sample_data/titanic.csv; Ticket, Fare, Cabin and Embarked are GENERATED (the
    real values are not in an offline package), Embarked with 2 missing values and Cabin mostly missing, as in
    Kaggle's file."""
    rng = np.random.default_rng(0)
    df = pd.read_csv(SAMPLE / "titanic.csv")
    n = len(df)
    df["Ticket"] = [f"{rng.choice(['A/5', 'PC', 'STON/O2.', ''])} {rng.integers(1000, 400000)}".strip()
                    for _ in range(n)]
    df["Fare"] = np.round(np.where(df["Pclass"] == 1, 80, np.where(df["Pclass"] == 2, 20, 8))
                          * rng.lognormal(0, 0.4, n), 4)
    df["Cabin"] = np.where(rng.random(n) < 0.77, None, [f"C{rng.integers(1, 150)}" for _ in range(n)])
    df["Embarked"] = rng.choice(["S", "C", "Q"], size=n, p=[0.72, 0.19, 0.09])
    df.loc[[61, 829], "Embarked"] = None
    cols = ["PassengerId", "Survived", "Pclass", "Name", "Sex", "Age", "SibSp", "Parch", "Ticket", "Fare", "Cabin",
            "Embarked"]
    df[cols].to_csv(path, index=False)
    return str(path)


def test_the_mission_example_trains_on_survived(mlcli, tmp_path):
    """`mlcli train titanic.csv --model xgboost` on the Kaggle layout: Survived, not Embarked (the last column)."""
    data = kaggle_titanic(tmp_path / "train.csv")
    r = mlcli("train", data, "--model", "xgboost", "--param", "n_estimators=60", "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["target"] == "Survived" and doc["task"] == "binary"
    assert doc["target_reason"].startswith("named like a label ('Survived')")
    assert "target: named like a label ('Survived')" in r.stderr
    assert doc["metrics"]["roc_auc"] > 0.8
    meta = json.loads((tmp_path / "models" / "train-xgboost" / "mlcli.json").read_text())
    assert meta["target"] == "Survived" and meta["target_reason"] == doc["target_reason"]


def test_a_uci_style_file_with_the_letter_first(mlcli, tmp_path):
    """GENERATED in the shape of UCI's letter-recognition file: the class letter first, 16 small integers."""
    rng = np.random.default_rng(1)
    n = 600
    letters = rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), size=n)
    cols = {"lettr": letters}
    for i in range(16):
        cols[f"x{i}"] = (rng.integers(0, 16, size=n) + (np.frombuffer(letters.astype("S1"), dtype=np.uint8) % (i + 2))
                         ) % 16
    pd.DataFrame(cols).to_csv(tmp_path / "letters.csv", index=False)
    df = pd.read_csv(tmp_path / "letters.csv")
    col, reason = choose_target(df.rename(columns={"lettr": "symbol"}), None)
    assert col == "symbol" and "the only column of few levels ('symbol', 26 levels)" in reason
    r = mlcli("train", tmp_path / "letters.csv", "--model", "tree", "-f", "json", "-q")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["target"] == "lettr" and doc["task"] == "multiclass"


def test_labels_are_matched_without_case_or_separators():
    assert normalise("Sale_Price") == "saleprice" and normalise("is-fraud") == "isfraud"
    base = {"x1": np.arange(30) % 7, "x2": np.linspace(0, 1, 30)}
    for name in ("Sale_Price", "Is_Fraud", "Heart Disease", "CHURN", "Outcome"):
        df = pd.DataFrame({name: np.arange(30) % 2, **base})
        assert choose_target(df, None) == (name, f"named like a label ('{name}'); use --target to choose another")


def test_the_earliest_label_name_wins_and_implausible_names_are_skipped():
    df = pd.DataFrame({"income": ["<=50K", ">50K"] * 15, "class": ["a", "b", "c"] * 10, "x": range(30)})
    assert choose_target(df, None)[0] == "class"
    free_text = [f"the {w} quick brown fox number {i}" for i, w in enumerate(["red", "big"] * 15)]
    df = pd.DataFrame({"label": free_text, "x": np.arange(30) % 3, "y2": np.arange(30) % 2})
    assert choose_target(df, None)[0] == "y2"  # free text is never a target: the last column is


def test_the_last_column_is_still_the_fallback():
    df = pd.DataFrame({"a": np.linspace(0, 1, 40), "b": np.arange(40) % 5, "amount": np.linspace(1, 9, 40) ** 2})
    assert choose_target(df, None) == ("amount", "the last column ('amount'); use --target to choose another")


def test_no_clear_choice_asks_with_the_candidates(mlcli, tmp_path):
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"won": rng.integers(0, 2, 60), "grp": rng.choice(["a", "b", "c"], 60),
                       "region": rng.choice(["n", "s"], 60), "note": rng.choice(["p", "q", None], 60)})
    df.to_csv(tmp_path / "d.csv", index=False)
    message = assert_error(mlcli("train", tmp_path / "d.csv"), "cannot tell which column is the target")
    assert message.startswith("cannot tell which column is the target; give --target: candidates are ")
    assert "won (binary 0/1)" in message and "grp (3 levels)" in message and "region (binary n/s)" in message
    assert "note (binary p/q, " in message and "missing)" in message  # missing values rank last
    assert not (tmp_path / "models").exists()  # nothing was trained
    r = mlcli("train", tmp_path / "d.csv", "--target", "won", "--model", "logreg", "-q", "-f", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)["target_reason"] == "given"


def test_an_empty_target_name_is_an_error_not_a_guess(mlcli, small_binary):
    assert_error(mlcli("train", small_binary, "--target", ""), "--target is empty")
