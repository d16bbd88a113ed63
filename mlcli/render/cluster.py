"""Rich and CSV renderings of the cluster report."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from mlcli.render.tables import bar, fmt_num

QUALITY = (("silhouette", "silhouette (-1..1, higher is better)"),
           ("davies_bouldin", "Davies–Bouldin (lower is better)"),
           ("calinski_harabasz", "Calinski–Harabasz (higher is better)"),
           ("noise_share", "noise share (DBSCAN: label -1)"))


def fmt_share(share: float | None, places: int = 1) -> str:
    return "" if share is None else f"{share:.{places}%}"


def _table(title: str) -> Table:
    return Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")


def selection_table(doc: dict[str, Any]) -> Table:
    t = _table(f"Choosing k: {doc['k_reason']}")
    extra = [c for c in ("inertia", "bic") if any(c in r for r in doc["selection"])]
    for name in ["k", "silhouette", *extra, ""]:
        t.add_column({"bic": "BIC", "inertia": "inertia (elbow)"}.get(name, name),
                     justify="right" if name else "left")
    best = max((r["silhouette"] or 0.0) for r in doc["selection"]) or 1.0
    for r in doc["selection"]:
        style = "bold green" if r.get("chosen") else None
        t.add_row(str(r["k"]), fmt_num(r["silhouette"]), *[fmt_num(r[c]) for c in extra],
                  bar(max(r["silhouette"] or 0.0, 0.0) / best, 16), style=style)
    return t


def sizes_table(doc: dict[str, Any]) -> Table:
    t = _table(f"Clusters ({doc['method']}" + (f", k = {doc['k']}" if doc["k"] else f", eps = {fmt_num(doc['eps'])}")
               + ")")
    for name, justify in (("cluster", "right"), ("rows", "right"), ("share", "right"), ("", "left"),
                          ("stands out by", "left")):
        t.add_column(name, justify=justify)
    profiles = {p["cluster"]: p for p in doc["profile"]}
    biggest = max(s["count"] for s in doc["sizes"])
    for s in doc["sizes"]:
        name = "noise" if s["cluster"] == -1 else str(s["cluster"])
        t.add_row(name, str(s["count"]), fmt_share(s["share"], 1), bar(s["count"] / biggest, 14),
                  describe(profiles.get(s["cluster"])))
    return t


def describe(profile: dict[str, Any] | None, top: int = 3) -> str:
    """'petal_length 5.5 vs 3.8 (+1.0 sd); smoker=yes 80% vs 20%': what sets a cluster apart."""
    if not profile:
        return ""
    parts = [f"{n['column']} {n['mean']:.3g} vs {n['overall_mean']:.3g} ({n['gap_sd']:+.1f} sd)"
             for n in profile["numeric"][:top] if n["gap_sd"] is not None and abs(n["gap_sd"]) >= 0.3]
    parts += [f"{c['column']}={c['value']} {fmt_share(c['share'], 0)} vs {fmt_share(c['overall_share'], 0)}"
              for c in profile["categories"][:2]]
    return "; ".join(parts) or "close to the overall averages"


def label_table(label: dict[str, Any]) -> Table:
    t = _table(f"Clusters × '{label['column']}' (ARI {fmt_num(label['ari'])}, NMI {fmt_num(label['nmi'])}, "
               f"{label['rows']} labelled rows)")
    t.add_column("cluster", justify="right")
    for name in label["labels"]:
        t.add_column(name, justify="right")
    for row in label["table"]:
        top = max(row["counts"]) if row["counts"] else 0
        t.add_row("noise" if row["cluster"] == -1 else str(row["cluster"]),
                  *[f"[bold]{v}[/bold]" if v == top and v else str(v) for v in row["counts"]])
    return t


def render_cluster(console: Console, doc: dict[str, Any]) -> None:
    if doc["selection"]:
        console.print(selection_table(doc))
    console.print(sizes_table(doc))
    q = _table("Cluster quality")
    q.add_column("measure")
    q.add_column("value", justify="right")
    for key, name in QUALITY:
        if key != "noise_share" or doc["method"] == "dbscan":
            q.add_row(name, fmt_num(doc["metrics"].get(key)))
    console.print(q)
    if doc.get("label"):
        console.print(label_table(doc["label"]))
    if doc.get("bundle"):
        console.print(f"[dim]bundle saved to {doc['bundle']}: mlcli predict {doc['bundle']} NEW.csv assigns new "
                      "rows[/dim]")


def cluster_csv(doc: dict[str, Any]) -> str:
    """The report as CSV: one row per cluster (size, share, and the profile's largest gaps)."""
    lines = ["cluster,count,share,stands_out_by"]
    profiles = {p["cluster"]: p for p in doc["profile"]}
    for s in doc["sizes"]:
        text = describe(profiles.get(s["cluster"])).replace('"', "'")
        lines.append(f"{s['cluster']},{s['count']},{s['share']},\"{text}\"")
    return "\n".join(lines) + "\n"
