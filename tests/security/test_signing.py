"""Signed bundles: `mlcli sign` and `train --sign` with a key from the environment or a key file; a changed
description fails its signature; MLCLI_REQUIRE_SIGNATURE refuses unsigned bundles and other keys' bundles."""

from __future__ import annotations

import json

import pytest

from conftest import assert_error, cli

KEY = "team-key-0123456789abcdef"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, small_data):
    out = tmp_path_factory.mktemp("signing") / "b"
    r = cli("train", small_data, "--model", "logreg", "--out", out, "-q", "-f", "json")
    assert r.exit_code == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    x = rng.normal(size=120)
    path = tmp_path_factory.mktemp("signing-data") / "d.csv"  # GENERATED: y follows x
    pd.DataFrame({"x": x, "z": rng.normal(size=120), "y": (x > 0).astype(int)}).to_csv(path, index=False)
    return path


def _copy(bundle, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(bundle, target)
    return target


def test_sign_then_load_with_the_key_required(bundle, small_data, tmp_path, monkeypatch):
    folder = _copy(bundle, tmp_path)
    monkeypatch.setenv("MLCLI_SIGNING_KEY", KEY)
    r = cli("sign", folder, "-f", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["files"] == 2 and len(doc["key_id"]) == 16 and KEY not in r.stdout
    meta = json.loads((folder / "mlcli.json").read_text())
    assert meta["signature"]["scheme"] == "hmac-sha256" and meta["signature"]["key_id"] == doc["key_id"]
    monkeypatch.setenv("MLCLI_REQUIRE_SIGNATURE", "1")
    assert cli("predict", folder, small_data, "-f", "csv").exit_code == 0
    inspected = json.loads(cli("inspect", folder, "-f", "json").stdout)
    assert inspected["signature"] == "valid" and inspected["verdict"] == "loads"


def test_a_forged_metric_fails_the_signature_with_or_without_the_requirement(bundle, small_data, tmp_path,
                                                                              monkeypatch):
    folder = _copy(bundle, tmp_path)
    monkeypatch.setenv("MLCLI_SIGNING_KEY", KEY)
    assert cli("sign", folder).exit_code == 0
    meta = json.loads((folder / "mlcli.json").read_text())
    meta["metrics"]["accuracy"] = 0.999
    (folder / "mlcli.json").write_text(json.dumps(meta))
    for argv in (["predict", folder, small_data], ["evaluate", folder, small_data], ["report", folder]):
        assert_error(cli(*argv), "its signature does not match its contents")
    r = cli("inspect", folder, "-f", "json")
    assert r.exit_code == 2 and json.loads(r.stdout)["signature"] == "invalid"
    assert_error(cli("sign", folder), "signature does not match")  # a tampered bundle is not re-signed


def test_the_requirement_refuses_unsigned_and_other_keys(bundle, small_data, tmp_path, monkeypatch):
    folder = _copy(bundle, tmp_path)
    monkeypatch.setenv("MLCLI_REQUIRE_SIGNATURE", "1")
    assert_error(cli("predict", folder, small_data), "is not signed", "MLCLI_REQUIRE_SIGNATURE")
    monkeypatch.setenv("MLCLI_SIGNING_KEY", "another-key-of-16-bytes-or-more")
    monkeypatch.delenv("MLCLI_REQUIRE_SIGNATURE")
    assert cli("sign", folder).exit_code == 0
    monkeypatch.setenv("MLCLI_SIGNING_KEY", KEY)
    assert cli("predict", folder, small_data).exit_code == 0  # signed by someone else, not required: loads
    monkeypatch.setenv("MLCLI_REQUIRE_SIGNATURE", "1")
    assert_error(cli("predict", folder, small_data), "not the key at hand")


def test_train_sign_with_a_key_file_and_the_key_errors(small_data, tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    monkeypatch.setenv("MLCLI_SIGNING_KEY_FILE", str(key_file))
    r = cli("train", small_data, "--model", "logreg", "--out", tmp_path / "b", "--sign", "-q", "-f", "json")
    assert r.exit_code == 0, r.stderr
    monkeypatch.setenv("MLCLI_REQUIRE_SIGNATURE", "1")
    assert cli("predict", tmp_path / "b", small_data).exit_code == 0
    monkeypatch.delenv("MLCLI_SIGNING_KEY_FILE")
    assert_error(cli("train", small_data, "--out", tmp_path / "c", "--sign"), "--sign needs a key")
    assert not (tmp_path / "c").exists()
    monkeypatch.setenv("MLCLI_SIGNING_KEY", "short")
    assert_error(cli("sign", tmp_path / "b"), "at least 16")
    assert_error(cli("sign", tmp_path / "b", "--key-file", tmp_path / "nope"), "cannot be read")
