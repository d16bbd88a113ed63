"""`mlcli models --kind cluster|reduce|anomalies`: the unsupervised methods of the registry."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


def render_methods(console: Console, rows: list[dict[str, Any]]) -> None:
    kind = rows[0]["kind"] if rows else ""
    t = Table(title=f"{kind.capitalize()} methods (mlcli {kind} --method NAME)", box=box.SIMPLE_HEAD,
              title_justify="left", collapse_padding=True, pad_edge=False)
    t.add_column("name", style="bold", no_wrap=True)
    t.add_column("installed")
    t.add_column("description", style="dim", ratio=1)
    for r in rows:
        t.add_row(r["name"], Text("yes", style="green") if r["installed"] else
                  Text(f"no: pip install {r['install']}", style="red"), r["summary"])
    console.print(t)


def methods_csv(rows: list[dict[str, Any]]) -> str:
    return "name,kind,installed\n" + "".join(f"{r['name']},{r['kind']},{str(r['installed']).lower()}\n" for r in rows)
