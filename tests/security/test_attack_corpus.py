"""The attack corpus of issue 24: bundles from a stranger are refused, whatever was done to them.

Every attack bundle (cases.py) runs through predict, evaluate, explain, report and inspect, in-process; each
(case, command) is one test, and each asserts what README "Sharing models safely" promises: exit code 2, one
line on stderr starting 'mlcli: error: ' (naming the culprit where there is an obvious one), no traceback,
no marker file (every payload would create one), no report written, and — for resource bombs — little memory
used. ``inspect`` may print its report on stdout (JSON here): its verdict must be "refused".

The genuine bundles the attacks start from run cleanly through the same five commands, so a refusal is for
the attack, not for everything.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import tempfile
import tracemalloc
from pathlib import Path

import pytest

from . import edits as e
from . import payloads as p
from .cases import CASES, EMBEDDED_MEMBERS, MEMBER_FILES, embedded_models
from .corpus import BASES, COMMANDS, Corpus, command_argv
from conftest import cli, error_line

# where transformers would copy custom code before importing it (only if an attack ever got that far)
os.environ.setdefault("HF_MODULES_CACHE", str(Path(tempfile.gettempdir()) / "mlcli-attack-hf-modules"))

MEMORY_LIMIT = 256 * e.MiB  # a bomb asks for 1 GiB to 8 TiB; refusing it needs next to nothing


@pytest.fixture(scope="module", autouse=True)
def _click_command_built_once():
    """conftest.cli as it is, with typer's building of the click command from the app done once (as in one
    mlcli process) instead of on every invocation: ~0.1 s each, and the corpus makes ~1,000 of them."""
    import typer.testing
    from typer.main import get_command

    built: dict[int, object] = {}

    def get_command_once(app):
        if id(app) not in built:
            built[id(app)] = get_command(app)
        return built[id(app)]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(typer.testing, "_get_command", get_command_once, raising=False)
        yield


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    return Corpus(tmp_path_factory.mktemp("attack-corpus"))


@pytest.fixture
def marker(tmp_path, monkeypatch) -> Path:
    """The file a payload would create (its path in $MLCLI_ATTACK_MARKER; the working directory is tmp_path)."""
    path = tmp_path / p.MARKER_NAME
    monkeypatch.setenv(p.MARKER_ENV, str(path))
    _forget_custom_modules()
    yield path
    _forget_custom_modules()


def _forget_custom_modules() -> None:
    """Custom code that an earlier test let run stays imported; forget it, so it would run (and fire) again."""
    for name in [m for m in sys.modules if m.startswith("transformers_modules") or m == p.CUSTOM_MODULE]:
        del sys.modules[name]


def refusal(result, command: str) -> str:
    """The contract for a refused bundle; returns the message of the one error line, which holds no control
    character (a name from the bundle echoed raw could forge a line or drive the terminal)."""
    message = _refusal(result, command)
    assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in message), repr(message)
    return message


def _refusal(result, command: str) -> str:
    if command != "inspect":
        return error_line(result)  # exit 2, nothing on stdout, one line on stderr, no traceback
    assert result.exit_code == 2, (result.exit_code, result.stdout[-2000:], result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("mlcli: error: ")]
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip().endswith(errors[0]), result.stderr
    if result.stdout.strip():
        doc = json.loads(result.stdout)
        assert doc.get("verdict") == "refused", doc.get("verdict")
    return errors[0].removeprefix("mlcli: error: ")


# ============================================================================ the attacks

@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case_id", list(CASES))
def test_attack_is_refused(corpus, marker, tmp_path, case_id, command):
    built = corpus.build(CASES[case_id])
    case = built.case
    out = tmp_path / "out.html"
    argv = command_argv(command, built.bundle, "-" if case.data_on_stdin else built.data, out)

    if case.bomb:
        tracemalloc.start()
    try:
        result = cli(*argv, input=case.stdin)
    finally:
        peak = tracemalloc.get_traced_memory()[1] if case.bomb else 0
        if case.bomb:
            tracemalloc.stop()

    assert not marker.exists(), "the bundle's payload ran"
    assert not out.exists(), "report wrote a report of a refused bundle"
    message = refusal(result, command).replace(str(built.bundle), "BUNDLE")  # the culprit, not the folder
    if built.names:
        assert any(name in message for name in built.names), f"names none of {built.names}: {message}"
    assert peak < MEMORY_LIMIT, f"{peak / e.MiB:.0f} MiB allocated to refuse a bomb"


# ============================================================================ the genuine bases

@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("base", list(BASES))
def test_genuine_bundle_runs_cleanly(corpus, marker, tmp_path, base, command):
    genuine = corpus.base(base)
    out = tmp_path / "out.html"
    result = cli(*command_argv(command, genuine.bundle, genuine.data, out))
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and "mlcli: error" not in result.stderr
    assert not marker.exists()
    if command == "report":
        assert out.is_file()
    else:
        assert result.stdout.strip()
    if command == "inspect":
        assert json.loads(result.stdout).get("verdict") != "refused"


@pytest.mark.parametrize("base", ["logreg", "transformer", "embed"])
def test_genuine_bundle_predicts_rows_piped_on_stdin(corpus, marker, base):
    """The stdin cases pipe data the same way: a genuine bundle reads it."""
    genuine = corpus.base(base)
    text = genuine.data.read_text()
    result = cli("predict", genuine.bundle, "-", "--format", "csv", input=text)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == len(text.strip().splitlines())  # a header and a line a row


# ============================================================================ the corpus itself

def test_the_corpus_has_every_family_and_at_least_60_attack_bundles():
    families = {c.family for c in CASES.values()}
    assert len(CASES) >= 60
    assert families >= {"one byte changed", "untrusted type", "pickle", "symlink", "outside path", "custom code",
                        "field value", "missing field", "wrong type", "booster entry", "unlisted file",
                        "missing file", "resource bomb"}
    assert {c.base for c in CASES.values()} == set(BASES)


def test_every_file_of_every_base_has_a_one_byte_change(corpus):
    for name in BASES:
        bundle = corpus.base(name).bundle
        listed = set(e.read_meta(bundle)["files"])
        covered = set(MEMBER_FILES[name])
        if name == "embed":
            covered |= {(f / m).relative_to(bundle).as_posix() for f in embedded_models(bundle)
                        for m in EMBEDDED_MEMBERS}
        assert listed <= covered, (name, sorted(listed - covered))


def _fingerprint(folder: Path) -> dict[str, object]:
    """Every entry below ``folder`` (links not followed): a link's target, a file's size and leading bytes."""
    seen: dict[str, object] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                seen[rel] = ("link", os.readlink(path))
            elif path.is_file():
                with open(path, "rb") as fh:
                    seen[rel] = ("file", path.stat().st_size, e.sha256_bytes(fh.read(4 * e.MiB)))
            else:
                seen[rel] = ("dir",)
    return seen


def test_every_attack_bundle_differs_from_its_base(corpus):
    """The builders work and did something: no attack bundle is its base unchanged (so no refusal is for
    nothing)."""
    problems = {}
    for case in CASES.values():
        try:
            built = corpus.build(case)
        except pytest.skip.Exception:
            continue
        except Exception as exc:  # noqa: BLE001 - every broken builder is reported, not only the first
            problems[case.id] = f"{type(exc).__name__}: {exc}"
            continue
        if _fingerprint(built.bundle) == _fingerprint(corpus.base(case.base).bundle):
            problems[case.id] = "the same as its base"
    assert problems == {}


def test_the_bombs_are_small_on_disk_and_huge_when_read(corpus):
    skops = corpus.build(CASES["bomb-skops-schema-inflates-to-1gib"]).bundle / e.PIPELINE
    import zipfile

    with zipfile.ZipFile(skops) as z:
        info = z.getinfo("schema.json")
    assert info.file_size >= e.GiB and skops.stat().st_size < 2 * e.MiB
    huge = corpus.build(CASES["bomb-huge-mlcli-json"]).bundle / e.META
    assert huge.stat().st_size >= e.GiB and huge.stat().st_blocks * 512 < 4 * e.MiB


def test_the_pickle_and_python_payloads_would_fire(marker):
    pickle.loads(p.pickle_bytes())
    assert marker.exists()
    marker.unlink()
    eval(p.EXPRESSION)
    assert marker.exists()


@pytest.mark.parametrize("case_id", ["skops-custom-class", "skops-partial-eval", "skops-methodcaller"])
def test_the_skops_payloads_would_fire_if_their_types_were_trusted(corpus, marker, case_id):
    """Built with every type trusted (what mlcli refuses to do), the pipeline runs the payload."""
    import pandas as pd

    from mlcli.models.persist import skops_io

    built = corpus.build(CASES[case_id])
    sio = skops_io()
    path = built.bundle / e.PIPELINE
    pipe = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    try:
        pipe.predict(pd.read_csv(built.data))
    except Exception:  # noqa: BLE001 - the payload step returns nothing useful; it has run by then
        pass
    assert marker.exists()


def test_the_custom_code_would_fire_if_trusted(corpus, marker):
    built = corpus.build(CASES["custom-code-transformer"])
    from mlcli.text.runtime import require_torch

    _, transformers = require_torch("the proof")
    try:
        transformers.AutoConfig.from_pretrained(str(built.bundle / "model"), trust_remote_code=True,
                                                local_files_only=True)
    except Exception:  # noqa: BLE001 - the custom classes are stubs; the module ran when it was imported
        pass
    assert marker.exists()
