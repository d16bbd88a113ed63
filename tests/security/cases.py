"""The attacks: each case names a genuine base bundle and the edit an attacker makes to a copy of it.

A builder gets a :class:`Site`: the copy (``site.bundle``, at ``CASE/a/bundle``), the attacker's own folder
around it (``site.outside(...)``: files outside the bundle), and the corpus (other bases, the tiny BERT).
Where an edit changes a listed file, the builder records its new sha256 as an attacker would (so the hash
check alone does not refuse it); the ``-unhashed`` cases and the one-byte changes leave the old hash.

``names``: the error line must name at least one of these (the culprit: a file, a field, a type); a
builder may add names only known once it has run (an absolute path outside the bundle).
"""

from __future__ import annotations

import io
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import edits as e
from . import payloads as p


@dataclass
class Site:
    bundle: Path
    case_dir: Path
    corpus: Any
    names: list[str] = field(default_factory=list)

    def outside(self, name: str) -> Path:
        path = self.case_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def secret(self, name: str = "secret.txt") -> Path:
        """A file outside the bundle (a stand-in for ~/.ssh/id_rsa)."""
        path = self.outside(name)
        path.write_text("a file outside the bundle\n")
        return path


@dataclass(frozen=True)
class Case:
    id: str
    base: str
    build: Callable[[Site], None]
    family: str
    names: tuple[str, ...] = ()
    stdin: str | None = None  # what is piped to the command
    data_on_stdin: bool = False  # DATA is '-' (the piped text is the data)
    bomb: bool = False  # also: refused without allocating what the bomb asks for


CASES: dict[str, Case] = {}


def add(id: str, base: str, family: str, names: tuple[str, ...] = (), **kw: Any):
    def register(build: Callable[[Site], None]) -> Callable[[Site], None]:
        assert id not in CASES, id
        CASES[id] = Case(id, base, build, family, names, **kw)
        return build
    return register


def embedded_models(bundle: Path) -> list[Path]:
    """Model folders kept inside the bundle other than a fine-tuned transformer's own (``model/``): where a
    bundle keeps the base model of a sentence-embedding step, when it keeps it inside."""
    return sorted(c.parent for c in bundle.rglob("config.json")
                  if c.parent != bundle / "model" and not c.is_symlink() and c.parent.is_dir())


def set_embed_base_model(site: Site, value: str) -> None:
    def change(schema: dict[str, Any]) -> None:
        found = e.nodes_of(schema, "TextEmbedder")
        assert found, "no sentence-embedding step in this pipeline"
        for node in found:
            e.attrs_of(node)["base_model"] = e.str_node(value)
    e.edit_skops(site.bundle, change)


def outside_base_model(site: Site, name: str = "elsewhere/base-model") -> Path:
    """A copy of the genuine base model (the tiny BERT), outside the bundle."""
    return e.copy_tree(site.corpus.tiny_bert(), site.outside(name))


# ============================================================================ 1. one byte changed, hash kept

MEMBER_FILES = {
    "logreg": ("pipeline.skops", "train_rows.npy"),
    "tree": ("pipeline.skops", "train_rows.npy"),
    "lightgbm": ("booster-0.txt", "pipeline.skops", "train_rows.npy"),
    "xgboost": ("booster-0.ubj", "pipeline.skops", "train_rows.npy"),
    "catboost": ("booster-0.cbm", "pipeline.skops", "train_rows.npy"),
    "transformer": ("model/config.json", "model/model.safetensors", "model/tokenizer.json",
                    "model/tokenizer_config.json", "pipeline.skops", "train_rows.npy"),
    "embed": ("pipeline.skops", "train_rows.npy"),
    "ensemble": ("booster-0.ubj", "booster-1.cbm", "pipeline.skops", "train_rows.npy"),
}
EMBEDDED_MEMBERS = ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json")


def _slug(name: str) -> str:
    return name.replace("/", "-").replace(".", "-").replace("_", "-")


for _base, _files in MEMBER_FILES.items():
    for _name in _files:
        add(f"flip-{_base}-{_slug(_name)}", _base, "one byte changed", (_name,))(
            lambda site, name=_name: e.flip_byte(site.bundle / name))


for _name in EMBEDDED_MEMBERS:
    @add(f"flip-embed-base-model-{_slug(_name)}", "embed", "one byte changed")
    def _flip_embedded(site: Site, name: str = _name) -> None:
        folders = embedded_models(site.bundle)
        if not folders:
            pytest.skip("the bundle keeps no base model inside it (its sentence-embedding step reads one outside)")
        e.flip_byte(folders[0] / name)
        site.names.append((folders[0] / name).relative_to(site.bundle).as_posix())


# ============================================================================ 2. untrusted types in pipeline.skops

def _set_memory(node: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda schema: e.attrs_of(schema).__setitem__("memory", node)


@add("skops-os-system", "logreg", "untrusted type", ("os.system",))
def _(site: Site) -> None:
    e.edit_skops(site.bundle, _set_memory(e.type_node("os", "system")))


@add("skops-os-system-unhashed", "logreg", "untrusted type", ("pipeline.skops",))
def _(site: Site) -> None:
    e.edit_skops(site.bundle, _set_memory(e.type_node("os", "system")), hash_it=False)


@add("skops-posix-system", "logreg", "untrusted type", ("posix.system",))
def _(site: Site) -> None:
    e.edit_skops(site.bundle, _set_memory(e.type_node("posix", "system")))


@add("skops-builtins-eval", "logreg", "untrusted type", ("builtins.eval",))
def _(site: Site) -> None:
    e.edit_skops(site.bundle, _set_memory(e.type_node("builtins", "eval")))


@add("skops-custom-class", "logreg", "untrusted type", ("Payload",))
def _(site: Site) -> None:
    node = e.object_node(p.Payload.__module__, "Payload", {"armed": e.json_node(True)})
    e.edit_skops(site.bundle, lambda schema: e.insert_step(schema, "payload", node))


@add("skops-partial-eval", "logreg", "untrusted type", ("functools.partial", "builtins.eval"))
def _(site: Site) -> None:
    def change(schema: dict[str, Any]) -> None:
        func = e.partial_node(e.type_node("builtins", "eval"), [e.str_node(p.EXPRESSION), e.dict_node({})])
        e.insert_step(schema, "payload", e.function_transformer_node(func, e.sklearn_version(schema)))
    e.edit_skops(site.bundle, change)


@add("skops-methodcaller", "logreg", "untrusted type", ("operator.methodcaller",))
def _(site: Site) -> None:
    def change(schema: dict[str, Any]) -> None:
        func = e.methodcaller_node("to_csv", p.MARKER_NAME)  # X.to_csv('attack-marker'): writes the marker
        e.insert_step(schema, "payload", e.function_transformer_node(func, e.sklearn_version(schema)))
    e.edit_skops(site.bundle, change)


@add("skops-object-array-pickle", "logreg", "untrusted type", ("pipeline.skops",))
def _(site: Site) -> None:
    """An array member of the skops zip saved as an object array: numpy writes it as a pickle."""
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.array([p.PicklePayload(), 1], dtype=object), allow_pickle=True)
    members = e.zip_members(site.bundle / e.PIPELINE)
    first = next(i for i, (name, _) in enumerate(members) if name.endswith(".npy"))
    members[first] = (members[first][0], buf.getvalue())
    e.write_zip(site.bundle / e.PIPELINE, members)
    e.rehash(site.bundle, e.PIPELINE)


@add("skops-not-a-zip", "logreg", "untrusted type", ("pipeline.skops",))
def _(site: Site) -> None:
    (site.bundle / e.PIPELINE).write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    e.rehash(site.bundle, e.PIPELINE)


@add("skops-no-schema", "logreg", "untrusted type", ("pipeline.skops", "schema.json"))
def _(site: Site) -> None:
    members = [m for m in e.zip_members(site.bundle / e.PIPELINE) if m[0] != "schema.json"]
    e.write_zip(site.bundle / e.PIPELINE, members)
    e.rehash(site.bundle, e.PIPELINE)


@add("skops-schema-not-json", "logreg", "untrusted type", ("pipeline.skops", "schema.json"))
def _(site: Site) -> None:
    members = [(n, b'{"__class__": "Pipeline", ' if n == "schema.json" else d)
               for n, d in e.zip_members(site.bundle / e.PIPELINE)]
    e.write_zip(site.bundle / e.PIPELINE, members)
    e.rehash(site.bundle, e.PIPELINE)


# ============================================================================ 3. pickles under every file name

def _pickle_as(name: str) -> Callable[[Site], None]:
    def build(site: Site) -> None:
        (site.bundle / name).write_bytes(p.pickle_bytes())
        e.rehash(site.bundle, name)
    return build


for _base, _name in (("logreg", "pipeline.skops"), ("logreg", "train_rows.npy"), ("lightgbm", "booster-0.txt"),
                     ("xgboost", "booster-0.ubj"), ("catboost", "booster-0.cbm"),
                     ("transformer", "model/model.safetensors"), ("transformer", "model/tokenizer.json"),
                     ("transformer", "pipeline.skops")):
    add(f"pickle-as-{_base}-{_slug(_name)}", _base, "pickle", (_name,))(_pickle_as(_name))


@add("pickle-as-train-rows-object-npy", "logreg", "pickle", ("train_rows.npy",))
def _(site: Site) -> None:
    """A well-formed .npy file whose array is of objects: numpy stores those as a pickle."""
    import numpy as np

    np.save(site.bundle / e.ROWS, np.array([p.PicklePayload(), 2], dtype=object), allow_pickle=True)
    e.rehash(site.bundle, e.ROWS)


@add("pickle-as-pytorch-model-bin", "transformer", "pickle", ("pytorch_model.bin",))
def _(site: Site) -> None:
    """The weights swapped for the old PyTorch format (a pickle) that transformers also reads."""
    (site.bundle / "model" / "model.safetensors").unlink()
    (site.bundle / "model" / "pytorch_model.bin").write_bytes(p.pickle_bytes())
    e.relist_all(site.bundle)


@add("pickle-model-joblib-format-1", "logreg", "pickle", ("model.joblib", "pickle", "--trust-pickle"))
def _(site: Site) -> None:
    """A bundle of the old format (format_version 1: a pickle, model.joblib), used without --trust-pickle."""
    for name in (e.PIPELINE, e.ROWS):
        (site.bundle / name).unlink()
    (site.bundle / "model.joblib").write_bytes(p.pickle_bytes())

    def change(meta: dict[str, Any]) -> None:
        meta["format_version"] = 1
        meta.pop("files", None)
        meta.pop("boosters", None)
    e.edit_meta(site.bundle, change)


@add("pickle-model-joblib-format-2", "logreg", "pickle", ("pipeline.skops", "model.joblib"))
def _(site: Site) -> None:
    """The current format, its pipeline file swapped for a listed, hashed pickle."""
    (site.bundle / e.PIPELINE).unlink()
    (site.bundle / "model.joblib").write_bytes(p.pickle_bytes())
    e.edit_meta(site.bundle, lambda meta: meta["files"].pop(e.PIPELINE))
    e.rehash(site.bundle, "model.joblib")


@add("pickle-as-embed-base-model-weights", "embed", "pickle", ("pytorch_model.bin",))
def _(site: Site) -> None:
    """The sentence-embedding base model's weights as a pickle (in the bundle when it keeps the base model
    inside; else in a base model folder outside, which the step is pointed at)."""
    folders = embedded_models(site.bundle)
    if folders:
        folder = folders[0]
    else:
        folder = outside_base_model(site)
        set_embed_base_model(site, str(folder))
        site.names.append("base model")
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(p.pickle_bytes())
    if folders:
        e.relist_all(site.bundle)


# ============================================================================ 4. symbolic links

@add("symlink-unlisted-to-outside-file", "logreg", "symlink", ("notes.txt",))
def _(site: Site) -> None:
    (site.bundle / "notes.txt").symlink_to(site.secret())


@add("symlink-listed-to-outside-file", "logreg", "symlink", ("notes.txt",))
def _(site: Site) -> None:
    (site.bundle / "notes.txt").symlink_to(site.secret())
    e.rehash(site.bundle, "notes.txt")


@add("symlink-train-rows-to-outside-copy", "logreg", "symlink", ("train_rows.npy",))
def _(site: Site) -> None:
    """A listed file replaced by a link to a file outside with the same content (so the same sha256)."""
    copy = site.outside("elsewhere/train_rows.npy")
    shutil.copyfile(site.bundle / e.ROWS, copy)
    e.replace_with_link(site.bundle / e.ROWS, copy)


@add("symlink-pipeline-to-outside-copy", "logreg", "symlink", ("pipeline.skops",))
def _(site: Site) -> None:
    copy = site.outside("elsewhere/pipeline.skops")
    shutil.copyfile(site.bundle / e.PIPELINE, copy)
    e.replace_with_link(site.bundle / e.PIPELINE, copy)


@add("symlink-pipeline-to-inside-copy", "logreg", "symlink", ("pipeline.skops",))
def _(site: Site) -> None:
    """A link that stays inside the bundle: still a link (one file, two names), refused all the same."""
    (site.bundle / e.PIPELINE).rename(site.bundle / "pipeline-copy.skops")
    (site.bundle / e.PIPELINE).symlink_to("pipeline-copy.skops")
    e.rehash(site.bundle, "pipeline-copy.skops")


@add("symlink-dir-to-outside", "logreg", "symlink", ("extra",))
def _(site: Site) -> None:
    site.secret("elsewhere/dir/secret.txt")
    (site.bundle / "extra").symlink_to(site.case_dir / "elsewhere" / "dir", target_is_directory=True)


@add("symlink-dir-to-outside-listed", "logreg", "symlink", ("extra",))
def _(site: Site) -> None:
    site.secret("elsewhere/dir/secret.txt")
    (site.bundle / "extra").symlink_to(site.case_dir / "elsewhere" / "dir", target_is_directory=True)
    e.rehash(site.bundle, "extra/secret.txt")


@add("symlink-model-folder", "transformer", "symlink", ("model",))
def _(site: Site) -> None:
    """The whole model/ folder is a link to a copy outside (every listed sha256 matches the copy)."""
    copy = e.copy_tree(site.bundle / "model", site.outside("elsewhere/model"))
    e.replace_with_link(site.bundle / "model", copy)


@add("symlink-model-weights", "transformer", "symlink", ("model/model.safetensors",))
def _(site: Site) -> None:
    copy = site.outside("elsewhere/model.safetensors")
    shutil.copyfile(site.bundle / "model" / "model.safetensors", copy)
    e.replace_with_link(site.bundle / "model" / "model.safetensors", copy)


@add("symlink-mlcli-json", "logreg", "symlink", ("mlcli.json",))
def _(site: Site) -> None:
    copy = site.outside("elsewhere/mlcli.json")
    shutil.copyfile(site.bundle / e.META, copy)
    e.replace_with_link(site.bundle / e.META, copy)


@add("symlink-loop-listed", "logreg", "symlink", ("loop",))
def _(site: Site) -> None:
    (site.bundle / "loop").symlink_to("loop")
    e.edit_meta(site.bundle, lambda meta: meta["files"].__setitem__("loop", "0" * 64))


@add("symlink-embed-base-model-folder", "embed", "symlink")
def _(site: Site) -> None:
    folders = embedded_models(site.bundle)
    if not folders:
        pytest.skip("the bundle keeps no base model inside it (its sentence-embedding step reads one outside)")
    copy = e.copy_tree(folders[0], site.outside("elsewhere/base-model"))
    e.replace_with_link(folders[0], copy)
    site.names.append(folders[0].relative_to(site.bundle).as_posix())


# ============================================================================ 5. paths outside the bundle

@add("files-absolute-path", "logreg", "outside path")
def _(site: Site) -> None:
    secret = site.secret()
    e.edit_meta(site.bundle, lambda meta: meta["files"].__setitem__(str(secret), e.sha256(secret)))
    site.names.append(str(secret))


@add("files-etc-passwd", "logreg", "outside path", ("/etc/passwd",))
def _(site: Site) -> None:
    if not Path("/etc/passwd").is_file():
        pytest.skip("no /etc/passwd here")
    e.edit_meta(site.bundle, lambda meta: meta["files"].__setitem__("/etc/passwd", e.sha256(Path("/etc/passwd"))))


@add("files-dotdot", "logreg", "outside path", ("../secret.txt",))
def _(site: Site) -> None:
    secret = site.secret("a/secret.txt")  # beside the bundle folder
    e.edit_meta(site.bundle, lambda meta: meta["files"].__setitem__("../secret.txt", e.sha256(secret)))


@add("files-nul-byte", "logreg", "outside path", ("pipeline.skops",))
def _(site: Site) -> None:
    digest = e.sha256(site.bundle / e.PIPELINE)
    e.edit_meta(site.bundle, lambda meta: meta["files"].__setitem__("pipeline.skops\x00.txt", digest))


@add("files-backslash", "logreg", "outside path", ("\\",))
def _(site: Site) -> None:
    """A name that is one odd file here and a path out of the bundle on Windows: '..\\secret.txt'."""
    (site.bundle / "..\\secret.txt").write_text("a file outside the bundle (on Windows)\n")
    e.rehash(site.bundle, "..\\secret.txt")


@add("files-newline-in-name", "logreg", "outside path", ("files",))
def _(site: Site) -> None:
    """A listed name that would print a second, forged line under the error."""
    name = "notes.txt\nmlcli: all checks passed"
    (site.bundle / name).write_text("hello\n")
    e.rehash(site.bundle, name)


@add("files-escape-sequence-in-name", "logreg", "outside path", ("files",))
def _(site: Site) -> None:
    """A listed name holding terminal escape sequences (clear the screen, retitle the window)."""
    name = "\x1b[2J\x1b[H\x1b]0;ok\x07notes.txt"
    (site.bundle / name).write_text("hello\n")
    e.rehash(site.bundle, name)


@add("step-name-dotdot", "transformer", "outside path", ("../../x",))
def _(site: Site) -> None:
    """The transformer step renamed '../../x': its weights would be read from CASE/x, outside the bundle."""
    e.copy_tree(site.bundle / "model", site.outside("x"))
    e.edit_skops(site.bundle, lambda schema: _rename_model_step(schema, "../../x"))


@add("step-name-absolute", "transformer", "outside path", ("step",))
def _(site: Site) -> None:
    copy = e.copy_tree(site.bundle / "model", site.outside("elsewhere/model"))
    e.edit_skops(site.bundle, lambda schema: _rename_model_step(schema, str(copy)))

@add("step-name-control-characters", "transformer", "outside path", ("step",))
def _(site: Site) -> None:
    """A step name that is no folder name at all: a newline and a terminal escape sequence in it."""
    e.edit_skops(site.bundle, lambda schema: _rename_model_step(schema, "model\n\x1b[31mmlcli: ok"))


def _rename_model_step(schema: dict[str, Any], name: str) -> None:
    steps = [s for s in e.pipeline_steps(schema) if s["content"][1].get("__class__", "").startswith("Transformer")]
    assert steps, "no transformer step in this pipeline"
    e.rename_step(steps[0], name)


@add("embed-base-model-absolute", "embed", "outside path", ("base model",))
def _(site: Site) -> None:
    set_embed_base_model(site, str(outside_base_model(site)))


@add("embed-base-model-dotdot", "embed", "outside path", ("base model", "../"))
def _(site: Site) -> None:
    """'../' enough times to reach / from anywhere, then the folder outside: the same folder whether it is
    read relative to the bundle or to the working directory."""
    folder = outside_base_model(site)
    value = "../" * 40 + str(folder).lstrip("/")
    set_embed_base_model(site, value)

@add("embed-base-model-home", "embed", "outside path", ("base model", "~/"))
def _(site: Site) -> None:
    folder = outside_base_model(site)
    value = "~/" + "../" * 40 + str(folder).lstrip("/")
    set_embed_base_model(site, value)

@add("booster-file-outside", "lightgbm", "outside path", ("../booster-0.txt",))
def _(site: Site) -> None:
    shutil.copyfile(site.bundle / "booster-0.txt", site.outside("a/booster-0.txt"))

    def change(meta: dict[str, Any]) -> None:
        meta["boosters"][0]["file"] = "../booster-0.txt"
        meta["files"]["../booster-0.txt"] = meta["files"]["booster-0.txt"]
    e.edit_meta(site.bundle, change)


# ============================================================================ 6. custom code (auto_map, .py)

CUSTOM_NAMES = ("custom_code.py", "auto_map")


def inject_custom_code(folder: Path, *, code: bool = True, auto_map: bool = True, remote: bool = False) -> None:
    """What a model from the hub with custom code looks like: config.json and tokenizer_config.json map the
    Auto classes to custom_code.py beside them (``remote``: to a module of another hub repository)."""
    module = "someone/evil-model--custom_code" if remote else p.CUSTOM_MODULE
    if auto_map:
        config = json.loads((folder / "config.json").read_text())
        config["model_type"] = "mlcli-attack"  # unknown to transformers: only the custom code could build it
        config["auto_map"] = {"AutoConfig": f"{module}.AttackConfig", "AutoModel": f"{module}.AttackModel",
                              "AutoModelForSequenceClassification": f"{module}.AttackModel"}
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        tok_path = folder / "tokenizer_config.json"
        tok = json.loads(tok_path.read_text()) if tok_path.is_file() else {}
        tok["tokenizer_class"] = "AttackTokenizer"
        tok["auto_map"] = {"AutoTokenizer": [f"{module}.AttackTokenizer", None]}
        tok_path.write_text(json.dumps(tok, indent=2))
    if code:
        (folder / f"{p.CUSTOM_MODULE}.py").write_text(p.CUSTOM_CODE_FILE)


def _transformer_custom_code(site: Site) -> None:
    inject_custom_code(site.bundle / "model")
    e.relist_all(site.bundle)


def _embed_custom_code(site: Site) -> None:
    folders = embedded_models(site.bundle)
    if folders:
        inject_custom_code(folders[0])
        e.relist_all(site.bundle)
        return
    folder = outside_base_model(site)
    inject_custom_code(folder)
    set_embed_base_model(site, str(folder))
    site.names.append("base model")


ANSWERS = {"": dict(), "-stdin-y": dict(stdin="y\n"), "-stdin-1": dict(stdin="1\n"),
           "-stdin-rows": dict(stdin="flag\n1\n0\n1\n", data_on_stdin=True)}
for _suffix, _kw in ANSWERS.items():
    add(f"custom-code-transformer{_suffix}", "transformer", "custom code", CUSTOM_NAMES, **_kw)(
        _transformer_custom_code)
    if _suffix != "-stdin-1":
        add(f"custom-code-embed-base-model{_suffix}", "embed", "custom code", CUSTOM_NAMES, **_kw)(
            _embed_custom_code)


@add("custom-code-py-file-only", "transformer", "custom code", ("custom_code.py",))
def _(site: Site) -> None:
    inject_custom_code(site.bundle / "model", auto_map=False)
    e.relist_all(site.bundle)


@add("custom-code-auto-map-remote", "transformer", "custom code", ("auto_map", "config.json"), stdin="y\n")
def _(site: Site) -> None:
    inject_custom_code(site.bundle / "model", code=False, remote=True)
    e.relist_all(site.bundle)


# ============================================================================ 7. fields: threshold, task, classes

def _set(key: str, value: Any) -> Callable[[Site], None]:
    return lambda site: e.edit_meta(site.bundle, lambda meta: meta.__setitem__(key, value))


# JSON has no NaN or Infinity (Python's json writes them): refusing the file as JSON names the token instead
for _id, _value, _names in (("nan", math.nan, ("threshold", "NaN")),
                            ("inf", math.inf, ("threshold", "Infinity")),
                            ("minus-inf", -math.inf, ("threshold", "Infinity")),
                            ("minus-1", -1, ("threshold",)), ("2", 2, ("threshold",)),
                            ("string", "0.5", ("threshold",)), ("bool", True, ("threshold",))):
    add(f"threshold-{_id}", "logreg", "field value", _names)(_set("threshold", _value))

# the task and the classes contradict each other (and the pipeline, a binary classifier): either is the culprit
add("task-regression-for-classifier", "logreg", "field value", ("task", "classes"))(_set("task", "regression"))
add("task-clustering-for-classifier", "logreg", "field value", ("task", "classes"))(_set("task", "clustering"))
add("classes-three-for-binary", "logreg", "field value", ("classes",))(_set("classes", ["no", "yes", "maybe"]))
add("classes-one-for-binary", "logreg", "field value", ("classes",))(_set("classes", ["yes"]))
add("classes-empty", "logreg", "field value", ("classes",))(_set("classes", []))
add("classes-duplicated", "logreg", "field value", ("classes",))(_set("classes", ["no", "no"]))
add("classes-nested-objects", "logreg", "field value", ("classes",))(
    _set("classes", [{"label": "no"}, ["yes", {"x": 1}]]))


@add("schema-task-contradicts-task", "logreg", "field value", ("task",))
def _(site: Site) -> None:
    e.edit_meta(site.bundle, lambda meta: meta["schema"].__setitem__("task", "regression"))


# ============================================================================ 8. required fields missing

def _drop(key: str) -> Callable[[Site], None]:
    return lambda site: e.edit_meta(site.bundle, lambda meta: meta.pop(key))


for _key in ("format_version", "model", "task", "target", "classes", "schema", "files"):
    add(f"missing-{_slug(_key)}", "logreg", "missing field", (_key,))(_drop(_key))
add("missing-boosters", "xgboost", "missing field", ("boosters",))(_drop("boosters"))
add("missing-booster-entry", "xgboost", "missing field", ("boosters", "booster-0.ubj"))(_set("boosters", []))


@add("missing-schema-columns", "logreg", "missing field", ("columns",))
def _(site: Site) -> None:
    e.edit_meta(site.bundle, lambda meta: meta["schema"].pop("columns"))


# ============================================================================ 9. wrong types, field by field

WRONG_TYPES = {
    "mlcli_version": 1, "created": 5, "libraries": "scikit-learn", "model": ["logreg"], "task": 1, "target": 5,
    "target_reason": {"why": 1}, "classes": "no,yes", "schema": [], "params": "C=1", "preprocess": "standard",
    "seed": "42", "data": "data.csv", "metrics": "0.93", "train_metrics": [0.9], "importances": "x1",
    "balance": 5, "ratio": [0.5], "class_weight": 5, "log_target": "no", "baseline": "priors", "warnings": "none",
    "early_stopping": "yes", "format_version": "2", "boosters": {}, "files": [],
}
for _key, _value in WRONG_TYPES.items():
    add(f"type-{_slug(_key)}", "logreg", "wrong type", (_key,))(_set(_key, _value))
add("type-format-version-float", "logreg", "wrong type", ("format_version",))(_set("format_version", 2.0))
add("type-format-version-bool", "logreg", "wrong type", ("format_version",))(_set("format_version", True))


def _nested(path: tuple[Any, ...], value: Any) -> Callable[[Site], None]:
    def change(meta: dict[str, Any]) -> None:
        node = meta
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return lambda site: e.edit_meta(site.bundle, change)


for _id, _path, _value, _names in (
        ("metrics-value", ("metrics", "accuracy"), "high", ("metrics", "accuracy")),
        ("schema-column-role", ("schema", "columns", 0, "role"), 7, ("schema", "columns", "role")),
        ("schema-column-name", ("schema", "columns", 0, "name"), 3, ("schema", "columns", "name")),
        ("importances-entry", ("importances", 0), {"feature": 1, "importance": "high"}, ("importances",)),
        ("files-hash", ("files", "pipeline.skops"), 12345, ("files", "pipeline.skops")),
        ("libraries-version", ("libraries", "numpy"), 2, ("libraries", "numpy"))):
    add(f"type-{_id}", "logreg", "wrong type", _names)(_nested(_path, _value))


# ============================================================================ 10. booster entries

def _booster(key: str, value: Any) -> Callable[[Site], None]:
    return lambda site: e.edit_meta(site.bundle, lambda meta: meta["boosters"][0].__setitem__(key, value))


for _id, _base, _key, _value, _names in (
        ("class-os-system", "xgboost", "class", "os:system", ("os:system",)),
        ("class-builtins-eval", "xgboost", "class", "builtins:eval", ("builtins:eval",)),
        ("class-of-another-library", "xgboost", "class", "lightgbm.sklearn:LGBMClassifier", ("LGBMClassifier",)),
        ("class-catboost-os-system", "catboost", "class", "os:system", ("os:system",)),
        ("class-catboost-regressor-for-classifier", "catboost", "class", "catboost.core:CatBoostRegressor",
         ("CatBoostRegressor",)),
        ("library-unknown", "lightgbm", "library", "pickle", ("pickle",)),
        ("library-of-another-booster", "lightgbm", "library", "xgboost", ("xgboost", "booster-0.txt")),
        ("place-dunder", "xgboost", "place", ["__class__"], ("__class__",)),
        ("place-dunder-chain", "lightgbm", "place", ["__init__", "__globals__"], ("__init__", "__globals__")),
        ("place-missing-attribute", "xgboost", "place", ["no_such_attribute"], ("no_such_attribute",)),
        ("place-string", "xgboost", "place", "estimator_", ("place",)),
        ("member-out-of-range", "xgboost", "member", [5, 0], ("member",)),
        ("member-negative", "lightgbm", "member", [-1, 0], ("member",)),
        ("member-wrong-type", "catboost", "member", "0", ("member",)),
        ("file-another-listed-file", "xgboost", "file", "train_rows.npy", ("train_rows.npy",)),
        ("unknown-field", "xgboost", "loader", "pickle", ("loader",))):
    add(f"booster-{_id}", _base, "booster entry", _names)(_booster(_key, _value))


@add("booster-members-swapped", "ensemble", "booster entry",
     ("member", "booster-0.ubj", "booster-1.cbm", "XGBClassifier", "CatBoostClassifier"))
def _(site: Site) -> None:
    """Each booster of the ensemble placed in the other's member (XGBoost where CatBoost is, and back)."""
    def change(meta: dict[str, Any]) -> None:
        first, second = meta["boosters"][0], meta["boosters"][1]
        first["member"], second["member"] = second["member"], first["member"]
    e.edit_meta(site.bundle, change)


@add("booster-member-out-of-range-ensemble", "ensemble", "booster entry", ("member",))
def _(site: Site) -> None:
    e.edit_meta(site.bundle, lambda meta: meta["boosters"][1].__setitem__("member", [7, 0]))


@add("booster-member-fold-out-of-range-ensemble", "ensemble", "booster entry", ("member",))
def _(site: Site) -> None:
    e.edit_meta(site.bundle, lambda meta: meta["boosters"][0].__setitem__("member", [0, 3]))


@add("booster-member-dropped-ensemble", "ensemble", "booster entry", ("member", "booster-0.ubj", "['estimator_']"))
def _(site: Site) -> None:
    """The member of an ensemble booster left out: the loader would put it in the ensemble's own place."""
    e.edit_meta(site.bundle, lambda meta: meta["boosters"][0].pop("member"))


@add("booster-file-unlisted", "lightgbm", "booster entry", ("booster-9.txt",))
def _(site: Site) -> None:
    shutil.copyfile(site.bundle / "booster-0.txt", site.bundle / "booster-9.txt")
    e.edit_meta(site.bundle, lambda meta: meta["boosters"][0].__setitem__("file", "booster-9.txt"))


@add("booster-entry-twice", "xgboost", "booster entry", ("booster-0.ubj", "boosters"))
def _(site: Site) -> None:
    e.edit_meta(site.bundle, lambda meta: meta["boosters"].append(dict(meta["boosters"][0])))


# ============================================================================ 11. unlisted and missing files

for _base, _name, _content in (("logreg", "helper.py", p.CODE.encode()), ("logreg", "model.pkl", None),
                               ("logreg", "notes.txt", b"hello\n"), ("logreg", ".hidden", b"\0" * 16),
                               ("logreg", "extra/deep/file.bin", b"\1" * 16),
                               ("transformer", "model/extra.bin", b"\2" * 16),
                               ("transformer", "model/custom_code.py", p.CODE.encode())):
    @add(f"unlisted-{_base}-{_slug(_name)}", _base, "unlisted file", (_name,))
    def _unlisted(site: Site, name: str = _name, content: bytes | None = _content) -> None:
        path = site.bundle / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(p.pickle_bytes() if content is None else content)


for _base, _name in (("logreg", "train_rows.npy"), ("logreg", "pipeline.skops"), ("lightgbm", "booster-0.txt"),
                     ("transformer", "model/model.safetensors")):
    @add(f"missing-file-{_base}-{_slug(_name)}", _base, "missing file", (_name,))
    def _missing(site: Site, name: str = _name) -> None:
        (site.bundle / name).unlink()


@add("listed-file-never-there", "logreg", "missing file", ("ghost.bin",))
def _(site: Site) -> None:
    e.edit_meta(site.bundle, lambda meta: meta["files"].__setitem__("ghost.bin", "a" * 64))


@add("files-empty", "logreg", "unlisted file", ("pipeline.skops", "files"))
def _(site: Site) -> None:
    e.edit_meta(site.bundle, lambda meta: meta.__setitem__("files", {}))


@add("pipeline-swapped-and-unlisted", "logreg", "unlisted file", ("pipeline.skops",))
def _(site: Site) -> None:
    """pipeline.skops taken out of 'files' and replaced by another bundle's pipeline (a decision tree)."""
    shutil.copyfile(site.corpus.base("tree").bundle / e.PIPELINE, site.bundle / e.PIPELINE)
    e.edit_meta(site.bundle, lambda meta: meta["files"].pop(e.PIPELINE))


# ============================================================================ 12. resource bombs

@add("bomb-skops-schema-inflates-to-1gib", "logreg", "resource bomb", ("pipeline.skops", "schema.json"), bomb=True)
def _(site: Site) -> None:
    """schema.json: the genuine schema then 1 GiB of spaces (still valid JSON), from about 1 MiB."""
    path = site.bundle / e.PIPELINE
    members = [e.inflating_member(n, d) if n == "schema.json" else e.member(n, d) for n, d in e.zip_members(path)]
    e.write_raw_zip(path, members)
    e.rehash(site.bundle, e.PIPELINE)


@add("bomb-skops-array-header-2-40", "logreg", "resource bomb", ("pipeline.skops",), bomb=True)
def _(site: Site) -> None:
    """An array member of the skops zip whose .npy header declares 2^40 float64 values (8 TiB)."""
    path = site.bundle / e.PIPELINE
    members = e.zip_members(path)
    first = next(i for i, (name, _) in enumerate(members) if name.endswith(".npy"))
    members[first] = (members[first][0], e.npy_header("<f8", (1 << 40,)) + b"\0" * 64)
    e.write_zip(path, members)
    e.rehash(site.bundle, e.PIPELINE)


@add("bomb-train-rows-header-2-40", "logreg", "resource bomb", ("train_rows.npy",), bomb=True)
def _(site: Site) -> None:
    (site.bundle / e.ROWS).write_bytes(e.npy_header("<u8", (1 << 40,)) + b"\0" * 64)
    e.rehash(site.bundle, e.ROWS)


@add("bomb-huge-mlcli-json", "logreg", "resource bomb", ("mlcli.json",), bomb=True)
def _(site: Site) -> None:
    """mlcli.json of 1 GiB (the description, then a hole: nothing of it on disk)."""
    e.sparse_file(site.bundle / e.META, (site.bundle / e.META).read_bytes(), e.GiB)


@add("bomb-deeply-nested-mlcli-json", "logreg", "resource bomb", ("mlcli.json",), bomb=True)
def _(site: Site) -> None:
    text = (site.bundle / e.META).read_text()
    depth = 100_000
    assert '"warnings": []' in text
    (site.bundle / e.META).write_text(text.replace('"warnings": []', '"warnings": ' + "[" * depth + "]" * depth, 1))


@add("bomb-deeply-nested-skops-schema", "logreg", "resource bomb", ("pipeline.skops", "schema.json"), bomb=True)
def _(site: Site) -> None:
    depth = 100_000
    # json cannot build the nested structure itself (it is the bomb): splice the text
    path = site.bundle / e.PIPELINE
    members = e.zip_members(path)
    out = []
    for name, data in members:
        if name == "schema.json":
            schema = json.loads(data)
            memory = json.dumps(e.attrs_of(schema)["memory"])
            text = json.dumps(schema)
            assert memory in text
            nested = ('{"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": '
                      + "[" * depth + "]" * depth + ', "__id__": 1}')
            data = text.replace(memory, nested, 1).encode()
        out.append((name, data))
    e.write_zip(path, out)
    e.rehash(site.bundle, e.PIPELINE)
