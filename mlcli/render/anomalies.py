"""Rich and CSV renderings of the anomalies report."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from mlcli.render.tables import fmt_num


def reason_text(item: dict[str, Any]) -> str:
    """'income 772 (typical 3.46e+04, -2.1)' or "student=Yes (29% of rows)": why a column is unusual here."""
    if "share" in item:
        return f"{item['column']}={item['value']} ({item['share']:.0%} of rows)"
    return f"{item['column']} {item['value']:.4g} (typical {item['typical']:.4g}, {item['score']:+.1f})"


def top_table(doc: dict[str, Any]) -> Table:
    t = Table(title=f"Most unusual rows ({doc['method']}; numbers: robust z-score against the median)",
              box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("row", justify="right")
    t.add_column("score", justify="right")
    t.add_column("unusual in")
    for r in doc["top"]:
        t.add_row(str(r["row"]), fmt_num(r["score"]), "; ".join(reason_text(u) for u in r["unusual"]))
    return t


def label_table(lab: dict[str, Any]) -> Table:
    t = Table(title=f"Against '{lab['column']}' = '{lab['positive']}' ({lab['known']} known anomalies in "
                    f"{lab['rows']} rows)", box=box.SIMPLE_HEAD, title_justify="left")
    t.add_column("measure")
    t.add_column("score", justify="right")
    t.add_column("no skill", justify="right")
    t.add_row("ROC AUC", fmt_num(lab["roc_auc"]), "0.5")
    t.add_row("PR AUC (average precision)", fmt_num(lab["pr_auc"]), fmt_num(lab["no_skill_pr_auc"]))
    t.add_row("precision of the flag", fmt_num(lab["precision_at_flag"]), fmt_num(lab["no_skill_pr_auc"]))
    t.add_row("recall of the flag", fmt_num(lab["recall_at_flag"]), "")
    return t


def render_anomalies(console: Console, doc: dict[str, Any]) -> None:
    console.print(f"{doc['flagged']} of {doc['rows']} rows flagged (--contamination {doc['contamination']}: score "
                  f"≥ {fmt_num(doc['threshold'])}; higher scores are more unusual)")
    if doc["top"]:
        console.print(top_table(doc))
    if doc.get("label"):
        console.print(label_table(doc["label"]))


def anomalies_csv(doc: dict[str, Any]) -> str:
    """The report as CSV: the most unusual rows and the columns that make them so."""
    lines = ["row,score,unusual_in"]
    for r in doc["top"]:
        text = "; ".join(reason_text(u) for u in r["unusual"]).replace('"', "'")
        lines.append(f"{r['row']},{r['score']},\"{text}\"")
    return "\n".join(lines) + "\n"
