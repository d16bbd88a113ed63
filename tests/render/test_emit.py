"""render.emit: one place where a result document becomes a table, JSON or CSV."""

from __future__ import annotations

import io
import json
import sys

import pytest
from rich.console import Console

from mlcli.render import emit as E

TRAIN_DOC = {"command": "train", "metrics": {"accuracy": 0.8, "roc_auc": None}}


@pytest.mark.parametrize("kind", sorted(E.RENDERERS))
def test_every_listed_renderer_exists(kind):
    table, csv = E.RENDERERS[kind]
    assert callable(E._function(table))
    assert csv is None or callable(E._function(csv))


def test_piped_reports_are_json_and_piped_rows_are_csv(monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert E.emit("train", TRAIN_DOC) == "json"
    assert json.loads(capsys.readouterr().out) == TRAIN_DOC
    runs = [{"id": 1, "command": "train", "status": "finished", "started": "2026-12-01T06:00:00+00:00",
             "model": "logreg", "data": "d.csv", "metrics": {"roc_auc": 0.9}, "main_metric": "roc_auc"}]
    assert E.emit("runs", runs, rows=True) == "csv"
    assert capsys.readouterr().out.splitlines()[0].startswith("id,")


def test_csv_of_a_report_and_an_explicit_format(capsys):
    assert E.emit("train", TRAIN_DOC, "csv") == "csv"
    assert capsys.readouterr().out == "metric,value\naccuracy,0.8\nroc_auc,\n"


def test_table_on_a_terminal_goes_through_the_rich_renderer(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(E, "stdout_console", lambda: Console(file=buffer, width=100))
    doc = {"model": "svm", "task": "binary", "params": {"C": 1.0, "kernel": "rbf"}}
    assert E.emit("model-params", doc, "table") == "table"
    text = " ".join(buffer.getvalue().split())  # the title wraps to the table's width
    assert "Parameters of svm (binary)" in text and "kernel rbf" in text and "C 1.0" in text


def test_a_kind_without_csv_falls_back_to_json(capsys):
    doc = {"model": "svm", "task": "binary", "params": {"C": 1.0}}
    E.emit("model-params", doc, "csv")
    assert json.loads(capsys.readouterr().out) == doc
