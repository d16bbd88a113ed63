"""The view of `mlcli inspect`: what a bundle holds, its files and hashes, the types loading it builds."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mlcli.render.tables import fmt_num, render_warnings


def render_inspect(console: Console, doc: dict[str, Any]) -> None:
    verdict = (Text("Loading: refused — ", style="bold red") + Text(doc["reason"] or "")) \
        if doc["verdict"] == "refused" else Text("Loading: accepted (every check passed)", style="green")
    if "model" not in doc:  # the description itself is invalid: nothing of it is shown as fact
        console.print(Panel(verdict, title=f"mlcli inspect {escape(doc['bundle'])}", expand=False))
        console.print(_files_table(doc["files"]))
        return
    classes = f" · classes {', '.join(map(str, doc['classes']))}" if doc.get("classes") else ""
    head = Text.from_markup(f"[bold]{escape(doc['model'])}[/bold] · {doc['task']} · target "
                            f"[bold]{escape(str(doc['target']))}[/bold]{escape(classes)}\n{escape(doc['format'])} "
                            f"(format {doc['format_version']})\n")
    console.print(Panel(head + verdict, title=f"mlcli inspect {escape(doc['bundle'])}", expand=False))
    others = [f["message"] for f in doc["findings"] if f["severity"] == "refuse"][1:]
    for line in others:
        console.print(Text(f"also refused: {line}", style="red", overflow="fold"))
    render_warnings(console, doc)
    console.print(_files_table(doc["files"]))
    for entry in doc.get("base_models") or []:
        where = (f"package {entry['package']} {entry.get('version')}, sha256 {entry['sha256'][:16]}"
                 if "package" in entry else f"copied into the bundle at {entry['path']}" if "path" in entry
                 else "not needed to load (its weights are in the bundle)")
        console.print(Text(f"Base model ({entry['use']}): {entry['name']} — {where}", overflow="fold"))
    used = ", ".join(f"{c['name']} ({c['role']})" for c in doc["columns"])
    console.print(Text(f"Columns: {used}", overflow="fold"))
    if doc.get("signature_text"):
        style = "green" if doc["signature"] == "valid" else "dim"
        console.print(Text(f"Signature: {doc['signature_text']}", style=style, overflow="fold"))
    if doc.get("metrics"):
        shown = " · ".join(f"{k} {fmt_num(v)}" for k, v in doc["metrics"].items() if v is not None)
        console.print(Text(f"Metrics at train time: {shown}", overflow="fold"))
    if doc["types"]:
        mlcli_types = [t["type"] for t in doc["types"] if not t["type"].startswith(("builtins.", "numpy."))]
        console.print(Text(f"Types loading builds ({len(doc['types'])}, all trusted)" if all(
            t["trusted"] for t in doc["types"]) else "Types loading builds (some NOT trusted)", style="bold"))
        console.print(Text(", ".join(mlcli_types), style="dim", overflow="fold"))
    libs = ", ".join(f"{lib['name']} {lib['saved']}" + (" (differs now)" if lib["differs"] else "")
                     for lib in doc["libraries"])
    console.print(Text(f"Saved with: {libs}", style="dim", overflow="fold"))


def _files_table(files: list[dict[str, Any]]) -> Table:
    t = Table(title="Files", box=box.SIMPLE_HEAD, title_justify="left")
    for name, justify in (("file", "left"), ("holds", "left"), ("bytes", "right"), ("sha256", "left"),
                          ("check", "left")):
        t.add_column(name, justify=justify)
    for f in files:
        check = Text("—", style="dim") if f["ok"] is None else (
            Text("matches", style="green") if f["ok"] else Text("DIFFERS", style="bold red"))
        if f.get("kind") not in (None, "file"):
            check = Text(f["kind"].upper(), style="bold red")
        elif not f["recorded"]:
            check = Text("NOT LISTED", style="bold red")
        t.add_row(f["name"], f["role"], "—" if f["bytes"] is None else f"{f['bytes']:,}",
                  (f["sha256"] or "missing")[:16], check)
    return t


def files_csv(doc: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "holds", "bytes", "sha256", "matches_record"])
    for f in doc["files"]:
        w.writerow([f["name"], f["role"], f["bytes"], f["sha256"], "" if f["ok"] is None else f["ok"]])
    return buf.getvalue()


def render_sign(console: Console, doc: dict[str, Any]) -> None:
    console.print(Text(f"{doc['bundle']}: signed with key {doc['key_id']} ({doc['files']} files covered)",
                       style="green", overflow="fold"))
