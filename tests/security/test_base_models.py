"""A bundle is a closed world for its base models too: a sentence-embedding step's base model given with
--base-model is copied into the bundle (and used from there), the packaged default is identified by package,
version and sha256, and a base model folder that needs its own code is refused before anything is built."""

from __future__ import annotations

import json
import shutil

from conftest import assert_error, cli, review_frame, write_tiny_bert


def test_an_embedding_base_model_is_copied_in_and_used_from_the_bundle(tmp_path):
    base = write_tiny_bert(tmp_path / "base")
    data = tmp_path / "reviews.csv"
    review_frame(80).drop(columns=["stars", "id"]).to_csv(data, index=False)
    out = tmp_path / "b"
    r = cli("train", data, "--model", "logreg", "--text-features", "embed", "--base-model", base, "--out", out,
            "-q", "-f", "json")
    assert r.exit_code == 0, r.stderr
    meta = json.loads((out / "mlcli.json").read_text())
    assert meta["base_models"] == [{"use": "embedding", "name": str(base), "path": "base-models/0"}]
    assert {"base-models/0/config.json", "base-models/0/model.safetensors"} <= set(meta["files"])
    before = cli("predict", out, data, "-f", "csv").stdout
    shutil.rmtree(base)  # the original folder is gone: the bundle still predicts, from its own copy
    moved = shutil.move(out, tmp_path / "moved")
    after = cli("predict", moved, data, "-f", "csv")
    assert after.exit_code == 0, after.stderr
    assert after.stdout == before
    doc = json.loads(cli("inspect", moved, "-f", "json").stdout)
    assert doc["verdict"] == "loads" and doc["base_models"][0]["path"] == "base-models/0"


def test_a_base_model_with_custom_code_is_refused_before_training(tmp_path):
    base = write_tiny_bert(tmp_path / "base")
    marker = tmp_path / "ran"
    (base / "modeling_evil.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    config = json.loads((base / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    (base / "config.json").write_text(json.dumps(config))
    data = tmp_path / "reviews.csv"
    review_frame(40).drop(columns=["stars", "id"]).to_csv(data, index=False)
    for argv in (["train", data, "--model", "logreg", "--text-features", "embed", "--base-model", base],
                 ["train", data, "--model", "transformer", "--base-model", base, "--epochs", "1"],
                 ["embed", data, "--text", "review", "--base-model", base]):
        assert_error(cli(*argv, input="y\n"), "needs custom code to load", "modeling_evil.py")
    (base / "modeling_evil.py").unlink()  # the auto_map alone is refused too
    assert_error(cli("embed", data, "--text", "review", "--base-model", base), "'auto_map'")
    assert not marker.exists() and not (tmp_path / "models").exists()


def test_every_hugging_face_loader_shuts_the_doors():
    """Each from_pretrained call passes trust_remote_code=False and local_files_only=True, in the source."""
    import ast
    import inspect

    from mlcli.text import runtime

    calls = [n for n in ast.walk(ast.parse(inspect.getsource(runtime)))
             if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "from_pretrained"]
    assert len(calls) == 3
    for call in calls:
        kw = {k.arg: getattr(k.value, "value", None) for k in call.keywords}
        assert kw.get("trust_remote_code") is False and kw.get("local_files_only") is True
