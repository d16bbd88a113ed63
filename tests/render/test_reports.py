"""The train and evaluate reports do not mislead: a baseline column beside the scores, a Warnings panel before
them, an evaluate title that says when the rows are not held-out, the rule behind the overfitting verdict, and
with many classes the most frequent confusions instead of an unreadable matrix. The documents are built by
hand, shaped like the ones train and evaluate return."""

from __future__ import annotations

import copy
import io
import string

from rich.console import Console

from mlcli.render.tables import render_evaluate, render_train, top_confusions

METRICS = {"accuracy": 0.820611, "roc_auc": 0.881019, "log_loss": 0.407857}
TRAIN_METRICS = {"accuracy": 0.851003, "roc_auc": 0.912301, "log_loss": 0.372994}
BASELINE = {"accuracy": 0.618321, "roc_auc": 0.5, "log_loss": 0.664881}
RULE = "flagged when the held-out score keeps less than half of the training score's advantage over the baseline"
LEAK_LINE = ("possible leak: column 'Fare_paid' alone predicts 'Survived' almost perfectly (ROC AUC 0.998 on its "
             "own, cross-validated); if it is computed from the target or recorded after the outcome, leave it out: "
             "--drop Fare_paid")
DUPLICATES_LINE = ("12 of the 262 held-out rows (4.6%) are exact copies of training rows, so the held-out metrics "
                   "are optimistic: remove duplicate rows from the data")


def report(classes: list, matrix: list[list[int]], metrics: dict = METRICS) -> dict:
    return {"task": "binary" if len(classes) == 2 else "multiclass", "rows": sum(map(sum, matrix)),
            "metrics": metrics, "classes": classes, "confusion_matrix": matrix,
            "per_class": [{"class": c, "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": sum(row)}
                          for c, row in zip(classes, matrix)], "threshold": 0.5 if len(classes) == 2 else None}


def train_doc(**extra) -> dict:
    """A train document as before the checks: no baseline, warnings, leaks, duplicates or rule."""
    test = report([0, 1], [[139, 23], [24, 76]])
    doc = {"command": "train", "model": "logreg", "task": "binary", "target": "Survived", "data": "titanic.csv",
           "rows": {"train": 1047, "test": 262, "dropped_missing_target": 0},
           "columns": [{"name": "Sex", "dtype": "str", "role": "categorical", "reason": "", "n_unique": 2,
                        "missing": 0.0}],
           "params": {}, "metrics": METRICS, "train_metrics": TRAIN_METRICS,
           "gap": {"metric": "roc_auc", "train": 0.912301, "test": 0.881019, "gap": 0.031282, "overfitting": False},
           "test": test, "importances": [{"feature": "Sex", "importance": 1.0}],
           "timings": {"load": 0.02, "fit": 0.07, "predict": 0.05, "total": 0.6}, "bundle": "models/titanic-logreg",
           "balance": None, "threshold_tuning": None}
    doc.update(extra)
    return doc


def evaluate_doc(**extra) -> dict:
    doc = {"command": "evaluate", "bundle": "m", "model": "logreg", "data": "titanic.csv",
           "dropped_missing_target": 0, **report([0, 1], [[730, 79], [124, 376]])}
    doc.update(extra)
    return doc


def shown(renderer, doc: dict) -> str:
    buffer = io.StringIO()
    renderer(Console(file=buffer, width=120), doc)
    return buffer.getvalue()


def flat(text: str) -> str:
    """The text with panel borders and line breaks gone, to find a sentence that wraps."""
    return " ".join(line.strip("│ ").strip() for line in text.splitlines() if line.strip("│ ").strip())


def row(text: str, label: str) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.strip().startswith(label))


# --------------------------------------------------------------------------------------------- train

def test_a_train_document_without_the_new_keys_renders_as_before():
    out = shown(render_train, train_doc())
    assert "Held-out metrics" in out and "baseline" not in out and "Warnings" not in out
    assert row(out, "ROC AUC") == ["ROC", "AUC", "0.8810", "0.9123"]
    assert "Confusion matrix" in out and "Most frequent confusions" not in out
    assert "Train-vs-test gap in ROC AUC: 0.0313 — small: no sign of overfitting" in out
    assert "flagged when" not in out


def test_the_baseline_column_sits_beside_test_and_train():
    out = shown(render_train, train_doc(baseline=BASELINE, warnings=[], leaks=[],
                                        duplicates={"test_rows": 0, "of": 262}))
    header = row(out, "metric")
    assert header == ["metric", "test", "train", "baseline"]
    assert row(out, "ROC AUC") == ["ROC", "AUC", "0.8810", "0.9123", "0.5000"]
    assert row(out, "accuracy") == ["accuracy", "0.8206", "0.8510", "0.6183"]
    assert "Warnings" not in out  # no warnings, no panel


def test_warnings_come_first_in_a_yellow_panel_with_the_leaks_first():
    leak = {"columns": ["Fare_paid"], "metric": "roc_auc", "score": 0.998, "how": "alone", "drop": "--drop Fare_paid"}
    doc = train_doc(baseline=BASELINE, warnings=[DUPLICATES_LINE, LEAK_LINE], leaks=[leak],
                    duplicates={"test_rows": 12, "of": 262})
    out = shown(render_train, doc)
    assert "╭─ Warnings ─" in out
    assert out.index("Warnings") < out.index("Held-out metrics")
    text = flat(out)
    assert f"• {LEAK_LINE}" in text and f"• {DUPLICATES_LINE}" in text
    assert text.index(LEAK_LINE) < text.index(DUPLICATES_LINE)
    assert text.count("--drop Fare_paid") == 1  # the leak is said once


def test_a_leak_the_warnings_do_not_mention_still_gets_a_line():
    leak = {"columns": ["a", "b"], "metric": "r2", "score": 0.9995, "how": "difference", "drop": "--drop a,b"}
    text = flat(shown(render_train, train_doc(warnings=[DUPLICATES_LINE], leaks=[leak])))
    assert "possible leak: 'a' - 'b' predicts the target almost perfectly (R² 0.9995); leave it out: --drop a,b" \
        in text
    assert text.index("--drop a,b") < text.index(DUPLICATES_LINE)


def test_the_gap_keeps_its_raw_value_and_gives_its_rule_dimmed_below():
    gap = {"metric": "roc_auc", "train": 0.99, "test": 0.7, "gap": 0.29, "baseline": 0.5, "overfitting": True,
           "rule": RULE}
    lines = shown(render_train, train_doc(gap=gap)).splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("Train-vs-test gap"))
    assert lines[i] == ("Train-vs-test gap in ROC AUC: 0.2900 — held out, under half its lead over the baseline is "
                        "left: likely overfitting")
    assert lines[i + 1].strip() == f"({RULE})"


def test_the_target_reason_is_shown_when_the_target_was_inferred():
    reason = "named like a label ('Survived'); use --target to choose another"
    assert f"target 'Survived': {reason}" in shown(render_train, train_doc(target_reason=reason))
    assert "target 'Survived':" not in shown(render_train, train_doc(target_reason="given"))


# --------------------------------------------------------------------------------------------- evaluate

def test_an_evaluate_document_without_the_new_keys_renders_as_before():
    out = shown(render_evaluate, evaluate_doc())
    assert "Held-out metrics" in out and "baseline" not in out and "Warnings" not in out
    assert row(out, "metric") == ["metric", "value"]
    out = shown(render_evaluate, evaluate_doc(baseline=None, training_rows=None, warnings=[]))
    assert "Held-out metrics" in out and "baseline" not in out and "Warnings" not in out


def test_evaluate_on_training_rows_says_so_in_the_title_and_the_warnings():
    warning = "312 of 1309 rows (23.8%) were used to train this model: these metrics are not held-out"
    doc = evaluate_doc(baseline=BASELINE, training_rows={"count": 312, "of": 1309, "share": 0.238350},
                       warnings=[warning])
    out = shown(render_evaluate, doc)
    title = "Metrics (312 of 1309 rows, 23.8%, were used to train this model: not held-out)"
    assert title in out.splitlines() and "Held-out metrics" not in out
    assert f"• {warning}" in flat(out) and out.index("Warnings") < out.index(title)
    assert row(out, "metric") == ["metric", "value", "baseline"]
    assert row(out, "ROC AUC") == ["ROC", "AUC", "0.8810", "0.5000"]


def test_evaluate_on_new_rows_keeps_the_held_out_title():
    doc = evaluate_doc(baseline=BASELINE, training_rows={"count": 0, "of": 1309, "share": 0.0}, warnings=[])
    out = shown(render_evaluate, doc)
    assert "Held-out metrics" in out and "were used to train" not in out and "Warnings" not in out


# --------------------------------------------------------------------------------------------- many classes

def many_classes(n: int = 26) -> tuple[list[str], list[list[int]]]:
    """n classes A, B, ... of 100 rows each: class i is taken for the next one min(i + 1, 20) times; with 26
    classes, 'O' is also taken for 'Q' 30 times (the largest confusion)."""
    classes = list(string.ascii_uppercase[:n])
    matrix = [[0] * n for _ in range(n)]
    for i in range(n):
        matrix[i][(i + 1) % n] = min(i + 1, 20)
    if n == 26:
        matrix[14][16] = 30
    for i in range(n):
        matrix[i][i] = 100 - sum(matrix[i])
    return classes, matrix


def test_many_classes_show_the_most_frequent_confusions_instead_of_the_matrix():
    classes, matrix = many_classes()
    doc = evaluate_doc(**report(classes, matrix, {"accuracy": 0.7, "f1_macro": 0.69}))
    out = shown(render_evaluate, doc)
    assert "Confusion matrix" not in out and "true \\ pred" not in out
    assert "Per class" in out and "Most frequent confusions" in out
    table = out[out.index("Most frequent confusions"):]
    assert row(table, "true") == ["true", "→", "predicted", "count", "share", "of", "the", "true", "class"]
    assert row(table, "O ") == ["O", "Q", "30", "30.0%"]  # the largest first
    lines = [line.strip() for line in table.splitlines()]
    start = lines.index(next(line for line in lines if line.startswith("───"))) + 1
    body = [line.split() for line in lines[start:lines.index("", start)]]
    assert len(body) == 10 and body[1] == ["T", "U", "20", "20.0%"]
    assert [int(r[2]) for r in body] == sorted((int(r[2]) for r in body), reverse=True)
    assert "26 classes: the full matrix is in --format json" in lines


def test_top_confusions_are_the_largest_off_diagonal_cells():
    assert top_confusions([[5, 1, 0], [3, 2, 4], [0, 0, 9]], ["a", "b", "c"]) == \
        [("b", "c", 4, 4 / 9), ("b", "a", 3, 3 / 9), ("a", "b", 1, 1 / 6)]
    assert top_confusions([[5, 0], [0, 9]], ["a", "b"]) == []


def test_twelve_classes_still_get_the_matrix():
    classes, matrix = many_classes(12)
    out = shown(render_train, train_doc(test=report(classes, matrix)))
    assert "Confusion matrix" in out and "Most frequent confusions" not in out


def test_the_document_is_unchanged_by_rendering():
    classes, matrix = many_classes()
    doc = evaluate_doc(**report(classes, matrix), baseline=BASELINE, warnings=[LEAK_LINE])
    before = copy.deepcopy(doc)
    shown(render_evaluate, doc)
    assert doc == before


def test_many_classes_without_a_single_confusion():
    classes = list(string.ascii_uppercase)
    matrix = [[10 if i == j else 0 for j in range(26)] for i in range(26)]
    out = shown(render_evaluate, evaluate_doc(**report(classes, matrix, {"accuracy": 1.0})))
    assert "No confusions: every row is classified correctly." in out and "Confusion matrix" not in out
