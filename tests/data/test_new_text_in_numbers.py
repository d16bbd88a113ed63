"""New rows with a few words in a column the model takes as numeric (Cars93's 'rotary' engine, which only the
held-out part has among its cylinder counts): predict, evaluate and explain read those values as missing and
say so; a column of mostly words is refused with exit 2, and numbers-only rows are quiet (GENERATED data)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from conftest import assert_error


def _cars(path, rows: int = 60, rotary: int = 0, extra_text: int = 0):
    """Generated: price from cylinders and engine size; ``rotary`` rows have the cylinder count 'rotary',
    ``extra_text`` more rows have 'unknown'."""
    lines = ["Cylinders,EngineSize,Type,Price"]
    for i in range(rows):
        cyl = "rotary" if i < rotary else "unknown" if i < rotary + extra_text else str(4 + 2 * (i % 3))
        size = 1.2 + (i % 7) * 0.4
        lines.append(f"{cyl},{size:.1f},{'Small' if i % 2 else 'Midsize'},{8 + 3 * (i % 3) + size * 2:.2f}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def bundle(tmp_path, mlcli):
    r = mlcli("train", _cars(tmp_path / "train.csv"), "--target", "Price", "--model", "linear", "--no-leak-check",
              "-o", "b")
    assert r.exit_code == 0, r.stderr
    return "b"


def test_a_new_word_among_numbers_is_read_as_missing_and_said(tmp_path, mlcli, bundle):
    path = _cars(tmp_path / "test.csv", rows=20, rotary=1)
    expected = (f"mlcli: warning: {path}: column 'Cylinders' is numeric for the model but 1 of its 20 values is "
                "not a number (like 'rotary'); read as missing")
    p = mlcli("predict", bundle, path, "-f", "csv")
    assert p.exit_code == 0, p.stderr
    assert expected in p.stderr.splitlines()
    out = pd.read_csv(io.StringIO(p.stdout))
    assert len(out) == 20 and out["prediction"].notna().all()
    e = mlcli("evaluate", bundle, path, "-f", "json")
    assert e.exit_code == 0 and expected in e.stderr.splitlines()
    assert json.loads(e.stdout)["rows"] == 20
    x = mlcli("explain", bundle, path)
    assert x.exit_code == 0 and expected in x.stderr.splitlines()


def test_several_words_are_counted(tmp_path, mlcli, bundle):
    path = _cars(tmp_path / "test.csv", rows=20, rotary=2, extra_text=3)
    p = mlcli("predict", bundle, path)
    assert p.exit_code == 0
    assert "column 'Cylinders' is numeric for the model but 5 of its 20 values are not numbers (like 'rotary')" \
        in p.stderr


def test_numbers_only_are_quiet(tmp_path, mlcli, bundle):
    p = mlcli("predict", bundle, _cars(tmp_path / "test.csv", rows=20))
    assert p.exit_code == 0 and "warning" not in p.stderr


def test_a_column_of_mostly_words_is_refused(tmp_path, mlcli, bundle):
    path = _cars(tmp_path / "test.csv", rows=20, rotary=1, extra_text=10)
    for command in ("predict", "evaluate"):
        assert_error(mlcli(command, bundle, path),
                     f"{path} has column(s) of the wrong type: 'Cylinders' should be numeric but holds values like "
                     "'rotary' (11 of its 20 values are not numbers)")


def test_train_test_file_with_a_new_word_is_read_and_the_warning_kept(tmp_path, mlcli):
    """train --test FILE: the same rule as predict, and the warning is in the JSON and the bundle's record."""
    train = _cars(tmp_path / "train.csv")
    test = _cars(tmp_path / "test.csv", rows=20, rotary=1)
    r = mlcli("train", train, "--target", "Price", "--model", "linear", "--no-leak-check", "--test", test,
              "-o", "b", "-f", "json")
    assert r.exit_code == 0, r.stderr
    line = (f"{test}: column 'Cylinders' is numeric for the model but 1 of its 20 values is not a number "
            "(like 'rotary'); read as missing")
    assert f"mlcli: warning: --test file {line}" in r.stderr.splitlines()
    doc = json.loads(r.stdout)
    assert doc["rows"]["test"] == 20
    assert f"--test file {line}" in doc["warnings"]
    mostly = _cars(tmp_path / "words.csv", rows=20, rotary=5, extra_text=8)
    bad = mlcli("train", train, "--target", "Price", "--model", "linear", "--test", mostly, "-o", "c")
    assert bad.exit_code == 2 and "Cylinders" in bad.stderr and not (tmp_path / "c").exists()
