"""Rich and CSV renderings of the reduce report."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from mlcli.render.tables import bar, fmt_num


def explained_table(doc: dict[str, Any]) -> Table:
    t = Table(title=f"PCA: variance explained ({doc['features']} features after encoding, "
                    f"{doc['total_components']} components in all)", box=box.SIMPLE_HEAD, title_justify="left")
    for name, justify in (("component", "left"), ("variance", "right"), ("cumulative", "right"), ("", "left"),
                          ("weighs most", "left")):
        t.add_column(name, justify=justify)
    for e in doc["explained"]:
        top = ", ".join(f"{w['feature']} {w['weight']:+.2f}" for w in e["loadings"])
        t.add_row(e["component"], f"{e['variance_ratio']:.1%}", f"{e['cumulative']:.1%}",
                  bar(e["variance_ratio"], 10), top)
    return t


def render_reduce(console: Console, doc: dict[str, Any]) -> None:
    if doc["explained"]:
        console.print(explained_table(doc))
        rest = doc["scree"][len(doc["explained"]):]
        if rest:
            console.print(f"[dim]the next components explain {', '.join(f'{r:.1%}' for r in rest[:5])}"
                          f"{' ...' if len(rest) > 5 else ''}[/dim]")
    else:
        line = f"{doc['method']}: {doc['rows']} rows mapped to {doc['dims']} dimensions"
        if doc.get("kl_divergence") is not None:
            line += f" (KL divergence {fmt_num(doc['kl_divergence'])})"
        console.print(line)
    if doc.get("label"):
        lab = doc["label"]
        console.print(f"'{lab['column']}' ({lab['groups']} groups) in the new coordinates: silhouette "
                      f"{fmt_num(lab['silhouette'])} (-1..1; higher: the groups stay apart)")
    if doc.get("bundle"):
        console.print(f"[dim]bundle saved to {doc['bundle']}: mlcli predict {doc['bundle']} NEW.csv transforms new "
                      "rows[/dim]")


def reduce_csv(doc: dict[str, Any]) -> str:
    """The report as CSV: PCA's explained variance per component (t-SNE/UMAP: the output dimensions)."""
    if not doc["explained"]:
        return "component\n" + "".join(f"{c}\n" for c in doc["components"])
    return "component,variance_ratio,cumulative,eigenvalue\n" + "".join(
        f"{e['component']},{e['variance_ratio']},{e['cumulative']},{e['eigenvalue']}\n" for e in doc["explained"])
