"""mlcli report: one self-contained HTML page about a model bundle (figures embedded as base64 PNG; no
external reference, no JavaScript), readable at laptop width and printable to PDF."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from mlcli.render.figures.style import pyplot

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;margin:0;
background:#fff;line-height:1.45}
main{max-width:1080px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;border-bottom:1px solid #d0d7de;padding-bottom:4px;
margin-top:32px}
.sub{color:#57606a;margin:0 0 16px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.9em}
th,td{border:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px;margin:6px 0}
.note{color:#57606a;font-size:.9em}
.figs{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;flex:1 1 460px;max-width:100%;break-inside:avoid;page-break-inside:avoid}
figure.wide{flex-basis:100%}figure img{max-width:100%;height:auto;border:1px solid #eaeef2}
figcaption{font-size:.85em;color:#57606a}
@media print{main{max-width:none;padding:0}h2{break-after:avoid}table,figure{break-inside:avoid}
.figs{display:block}figure{margin-bottom:12px}}
"""


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) >= 1000 else f"{value:.4f}".rstrip("0").rstrip(".") or "0"
    return str(value)


def table(header: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    head = f"<thead><tr>{head}</tr></thead>" if any(header) else ""  # a key-value table has no header
    body = "".join("<tr>" + "".join(f"<td class=\"num\">{e(fmt(v))}</td>" if i in numeric else f"<td>{e(fmt(v))}</td>"
                                    for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def png_data(fig: Any) -> str:
    """The figure as a data: URI (PNG, base64); the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figures_html(figures: dict[str, Any]) -> str:
    parts = []
    for name, fig in figures.items():
        w, h = fig.get_size_inches()
        wide = " class=\"wide\"" if w / h > 1.6 else ""  # two panels side by side: the page's full width
        parts.append(f"<figure{wide}><img alt=\"{e(name)}\" src=\"{png_data(fig)}\">"
                     f"<figcaption>{e(name.replace('_', ' '))}</figcaption></figure>")
    return f"<div class=\"figs\">{''.join(parts)}</div>"


def _data_section(meta: dict[str, Any]) -> str:
    data = meta.get("data") or {}
    rows = [["source", data.get("source")], ["rows", data.get("rows")], ["training rows", data.get("train_rows")],
            ["held-out rows", data.get("test_rows")], ["fingerprint", data.get("fingerprint")],
            ["target", f"{meta['target']} ({meta.get('target_reason') or 'given'})"], ["task", meta["task"]]]
    if meta.get("classes"):
        rows.append(["classes", ", ".join(str(c) for c in meta["classes"])])
    cols = [[c["name"], c.get("role"), c.get("dtype"), c.get("n_unique"),
             None if c.get("missing") is None else f"{c['missing']:.1%}", c.get("reason")]
            for c in meta["schema"]["columns"]]
    return ("<h2 id=\"data\">Data</h2>" + table(["", ""], rows) + "<h3>Columns and roles</h3>" +
            table(["column", "role", "type", "distinct", "missing", "why"], cols, {3}))


def _model_section(meta: dict[str, Any]) -> str:
    pre = {k: v for k, v in (meta.get("preprocess") or {}).items() if v is not None and not k.startswith("embed_")}
    rows = [["model", meta["model"]], ["parameters", ", ".join(f"{k}={v}" for k, v in (meta.get("params") or {}
                                                                                        ).items()) or "defaults"],
            ["preprocessing", ", ".join(f"{k}={v}" for k, v in pre.items())], ["seed", meta.get("seed")],
            ["decision threshold", meta.get("threshold")], ["balance", meta.get("balance") or "none"],
            ["created", meta.get("created")], ["mlcli", meta.get("mlcli_version")],
            ["libraries", ", ".join(f"{k} {v}" for k, v in (meta.get("libraries") or {}).items())]]
    if meta.get("early_stopping"):
        rows.append(["early stopping", meta["early_stopping"]])
    if meta.get("calibration"):
        c = meta["calibration"]
        rows.append(["probability calibration", f"{c['method']} on {c.get('folds')} inner folds of the training rows"
                                                f" ({'--calibrate' if c.get('by') == '--calibrate' else 'built in'})"])
    return "<h2 id=\"model\">Model</h2>" + table(["", ""], rows)


def _metrics_section(meta: dict[str, Any], evaluation: dict[str, Any] | None) -> str:
    held, train = meta.get("metrics") or {}, meta.get("train_metrics") or {}
    header = ["metric", f"held-out ({(meta.get('data') or {}).get('test_rows', '?')} rows, at training time)",
              "training rows"]
    keys = list(held)
    rows = [[k, held.get(k), train.get(k)] for k in keys]
    if evaluation:
        header += [f"on {evaluation['data']} ({evaluation['rows']} rows)", "baseline on the same rows"]
        base = evaluation.get("baseline") or {}
        for row in rows:
            row += [evaluation["metrics"].get(row[0]), base.get(row[0])]
    out = "<h2 id=\"metrics\">Metrics</h2>" + table(header, rows, set(range(1, len(header))))
    if not evaluation:
        out += ("<p class=\"note\">The baseline (class priors or the mean) is scored beside the model when the "
                "report is given labelled DATA: <code>mlcli report BUNDLE DATA</code>.</p>")
    return out


def _warnings(meta: dict[str, Any], evaluation: dict[str, Any] | None) -> str:
    lines = list(meta.get("warnings") or []) + list((evaluation or {}).get("warnings") or [])
    if not lines:
        return "<h2 id=\"warnings\">Warnings</h2><p class=\"note\">None: no leak, skew or duplicate was found.</p>"
    return "<h2 id=\"warnings\">Warnings</h2>" + "".join(f"<div class=\"warn\">{e(w)}</div>" for w in lines)


def report_html(meta: dict[str, Any], bundle: str, evaluation: dict[str, Any] | None,
                importance: dict[str, Any], figures: dict[str, Any]) -> str:
    """The page: header, data and columns, model, metrics (beside the baseline with DATA), warnings,
    importances, and the evaluation figures (with DATA)."""
    title = f"{meta['model']} · {meta['task']} · target {meta['target']}"
    sub = f"mlcli report of the bundle {bundle}" + (f", evaluated on {evaluation['data']}" if evaluation else "")
    parts = [f"<h1>{e(title)}</h1><p class=\"sub\">{e(sub)}</p>", _data_section(meta), _model_section(meta),
             _metrics_section(meta, evaluation), _warnings(meta, evaluation),
             "<h2 id=\"importances\">Feature importances</h2>"]
    parts.append(figures_html(importance) if importance else
                 "<p class=\"note\">This model has no native importances; see mlcli explain.</p>")
    parts.append("<h2 id=\"figures\">Figures</h2>")
    if figures:
        parts.append(figures_html(figures))
    else:
        parts.append("<p class=\"note\">The figures (ROC, precision-recall, threshold, calibration, confusion matrix, "
                     "residuals) need predictions: give labelled DATA, <code>mlcli report BUNDLE DATA</code>.</p>")
    return _page(title, "\n".join(parts))


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>\n{body}\n</main></body></html>\n")


def cv_report_html(doc: dict[str, Any], figures: dict[str, Any]) -> str:
    """cv --report: the leaderboard (mean ± SD, the test against the best), the run's settings, warnings and
    the cv figures, as one self-contained page."""
    metric = doc["metric"]
    title = f"cv leaderboard · {metric} · {doc['data']}"
    reps = f" × {doc['repeats']} repeats" if doc.get("repeats", 1) > 1 else ""
    sub = (f"{doc['rows']:,} rows, target {doc['target']} ({doc['task']}), {doc['folds']}-fold"
           f"{' stratified' if doc.get('stratified') else ''} CV{reps}, seed {doc['seed']}; "
           f"{'higher' if doc.get('higher_is_better', True) else 'lower'} {metric} is better")
    rows = []
    for r in doc["leaderboard"]:
        vs = r.get("vs_best") or {}
        noise = "best" if r["best"] else ("within noise" if vs.get("within_noise") else
                                          ("worse" if vs.get("within_noise") is False else "—"))
        rows.append([r.get("rank"), r["name"], r.get("score"), r.get("score_std"), vs.get("diff"), vs.get("p"),
                     noise, r["status"], r.get("seconds")])
    table_html = table(["rank", "model", f"{metric} mean", "SD", "vs best", "p", "", "status", "seconds"], rows,
                       {0, 2, 3, 4, 5, 8})
    test = doc.get("test") or {}
    parts = [f"<h1>{e(title)}</h1><p class=\"sub\">{e(sub)}</p>", "<h2 id=\"leaderboard\">Leaderboard</h2>",
             table_html, f"<p class=\"note\">p: {e(test.get('name'))}; rows with p ≥ {e(test.get('alpha'))} are "
                         "within noise of the best.</p>",
             _warnings({"warnings": doc.get("warnings")}, None), "<h2 id=\"figures\">Figures</h2>",
             figures_html(figures)]
    return _page(title, "\n".join(parts))
