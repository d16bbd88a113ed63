"""Output files: written whole or not at all, through a unique temporary file that never follows a symlink, and
refused before any work when they cannot be written."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from mlcli.errors import ConfigError
from mlcli.render.output import atomic_write, check_output_file, write_rows, write_table_file

from conftest import assert_error

FRAME = pd.DataFrame({"id": [1, 2], "prediction": ["yes", "no"]})


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name != ".mlcli-home")


def test_rows_and_tables_are_written_with_the_usual_permissions(tmp_path):
    write_rows(FRAME, "csv", str(tmp_path / "p.csv"))
    assert (tmp_path / "p.csv").read_text() == "id,prediction\n1,yes\n2,no\n"
    for name in ("t.parquet", "t.jsonl", "t.tsv", "t.csv"):
        write_table_file(FRAME, str(tmp_path / name))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), FRAME)
    assert (tmp_path / "t.tsv").read_text().splitlines()[1] == "1\tyes"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "p.csv").stat().st_mode) == 0o666 & ~mask
    assert _leftovers(tmp_path) == []


def test_a_planted_symlink_at_the_old_temporary_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / ".p.csv.tmp").symlink_to(victim)  # where the old writer put its temporary file
    write_rows(FRAME, "csv", str(tmp_path / "p.csv"))
    write_table_file(FRAME, str(tmp_path / "p.csv"))
    assert victim.read_text() == "precious"
    assert (tmp_path / "p.csv").read_text().startswith("id,prediction")
    assert _leftovers(tmp_path) == [".p.csv.tmp"]  # the planted link, untouched


def test_an_error_while_writing_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "p.csv"
    target.write_text("old")

    def fails(fh):
        fh.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, fails)
    assert target.read_text() == "old" and _leftovers(tmp_path) == []

    def disk_full(fh):
        raise OSError(28, "No space left on device")

    with pytest.raises(ConfigError, match="cannot write .*p.csv: No space left on device"):
        atomic_write(target, disk_full)
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_check_output_file(tmp_path, monkeypatch):
    check_output_file(None, "-o")
    check_output_file(str(tmp_path / "new.csv"), "-o")
    (tmp_path / "d").mkdir()
    with pytest.raises(ConfigError, match="-o .*d is a directory; give a file name, e.g. .*d/out.csv"):
        check_output_file(str(tmp_path / "d"), "-o")
    with pytest.raises(ConfigError, match="directory .*nodir does not exist"):
        check_output_file(str(tmp_path / "nodir" / "x.csv"), "-o")
    with pytest.raises(ConfigError, match="/dev/null exists and is not a regular file"):
        check_output_file("/dev/null", "-o")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path / "d") else real_access(p, mode))
    with pytest.raises(ConfigError, match="cannot write in directory .*d \\(permission denied\\)"):
        check_output_file(str(tmp_path / "d" / "x.csv"), "-o")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    from conftest import cli

    where = tmp_path_factory.mktemp("output-bundle")
    data = where / "d.csv"
    data.write_text("x,y\n" + "".join(f"{i % 7},{'ab'[i % 3 == 0]}\n" for i in range(60)))
    r = cli("train", data, "--model", "logreg", "--out", where / "m", "-q", "--format", "json")
    assert r.exit_code == 0, r.stderr
    return where / "m", data


def test_predict_checks_its_output_before_loading_the_model(mlcli, tmp_path, bundle, monkeypatch):
    import mlcli.experiments.predict as P

    model, data = bundle
    monkeypatch.setattr(P, "load_bundle", lambda *a, **k: pytest.fail("the model was loaded"))
    (tmp_path / "out").mkdir()
    assert_error(mlcli("predict", model, data, "-o", "out"), "--output out is a directory")
    assert _leftovers(tmp_path) == []
    real_access = os.access
    ro = str(tmp_path / "out")
    monkeypatch.setattr(os, "access", lambda p, mode: False if os.path.abspath(p) == ro else real_access(p, mode))
    assert_error(mlcli("predict", model, data, "-o", "out/p.csv"), "cannot write in directory out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes in read-only folders")
def test_predict_into_a_read_only_folder(mlcli, tmp_path, bundle):
    model, data = bundle
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        assert_error(mlcli("predict", model, data, "-o", "ro/p.csv"), "cannot write in directory ro")
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_predict_output_is_written_without_leftovers(mlcli, tmp_path, bundle):
    model, data = bundle
    (tmp_path / ".p.csv.tmp").symlink_to(tmp_path / "victim")
    r = mlcli("predict", model, data, "-o", "p.csv", "-q")
    assert r.exit_code == 0, r.stderr
    assert not (tmp_path / "victim").exists()
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 61


def test_balance_and_cv_check_their_output_before_reading_data(mlcli, tmp_path):
    (tmp_path / "out").mkdir()
    assert_error(mlcli("balance", "nope.csv", "--method", "oversample", "-o", "out"), "--output out is a directory")
    assert_error(mlcli("cv", "nope.csv", "--models", "logreg", "--oof", "out"), "--oof out is a directory")


@pytest.mark.parametrize("name", ["e.npy", "e.parquet", "e.csv"])
def test_embed_writes_through_a_unique_temporary_file(mlcli, tmp_path, tiny_bert, name):
    from conftest import review_frame

    review_frame(40).to_csv(tmp_path / "reviews.csv", index=False)
    victim = tmp_path / "victim"
    for planted in (f".{name}.tmp-{os.getpid()}", f".{name}.tmp-{os.getpid()}.npy"):  # the old fixed names
        (tmp_path / planted).symlink_to(victim)
    r = mlcli("embed", "reviews.csv", "--text", "review", "-o", name, "--base-model", tiny_bert, "-q")
    assert r.exit_code == 0, r.stderr
    assert not victim.exists()
    assert (tmp_path / name).stat().st_size > 0
    assert len(_leftovers(tmp_path)) == 2  # only the planted links
