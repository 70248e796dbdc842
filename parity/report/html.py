"""``index.html``: one self-contained page (no external assets) with the matrix scenario x
backend, each divergence's diff and replay command, timings and engine versions."""

from __future__ import annotations

from html import escape
from pathlib import Path

from parity.report.model import RunReport

FILENAME = "index.html"

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#fff}
h1{margin:0 0 .3rem} .meta{color:#57606a;margin-bottom:1.2rem}
table{border-collapse:collapse;margin:.6rem 0 1.4rem} th,td{border:1px solid #d0d7de;
padding:.35rem .7rem;text-align:left} th{background:#f6f8fa}
td.pass{background:#dafbe1} td.fail{background:#ffebe9;font-weight:600}
td.known{background:#fff8c5} td.unsupported{background:#eaeef2;color:#57606a}
td.error{background:#ff8182;font-weight:600}
pre{background:#f6f8fa;padding:.8rem;overflow-x:auto;font-size:12px;border-radius:6px}
code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}
.verdict-0{color:#1a7f37} .verdict-1{color:#cf222e} .verdict-2{color:#9a6700}
"""


def _matrix(report: RunReport) -> str:
    head = "".join(
        f"<th>{escape(b)}{' (reference)' if b == report.reference else ''}</th>"
        for b in report.backends
    )
    rows = []
    for key, row in report.cells.items():
        tds = []
        for backend in report.backends:
            cell = row.get(backend)
            if cell is None:
                tds.append("<td></td>")
                continue
            status = cell["status"]
            label = escape(status)
            if cell.get("divergence"):
                label = f'<a href="#{escape(cell["divergence"])}">{label}</a>'
            title = escape(
                cell.get("reason") or f"{cell['examples']} examples, {cell['steps']} steps"
            )
            tds.append(f'<td class="{escape(status)}" title="{title}">{label}</td>')
        rows.append(f"<tr><th>{escape(key)}</th>{''.join(tds)}</tr>")
    return (
        f'<table id="matrix"><thead><tr><th>scenario</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _timings(report: RunReport) -> str:
    rows = []
    for key, info in report.scenarios.items():
        per_backend = info.get("backend_seconds") or {}
        split = ", ".join(f"{escape(b)} {s:.2f}s" for b, s in per_backend.items())
        rows.append(
            f"<tr><td>{escape(key)}</td><td>{info.get('seconds', 0):.2f}s</td>"
            f"<td>{info.get('examples', 0)}</td><td>{info.get('steps', 0)}</td>"
            f"<td>{split}</td></tr>"
        )
    return (
        "<table><tr><th>scenario</th><th>wall</th><th>examples</th><th>steps</th>"
        f"<th>inside backend calls</th></tr>{''.join(rows)}</table>"
    )


def _engines(report: RunReport) -> str:
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(str(info.get('backend', '')))}</td>"
        f"<td>{escape(str(info.get('version', '')))}</td></tr>"
        for name, info in report.engines.items()
    )
    versions = ", ".join(f"{escape(k)} {escape(v)}" for k, v in report.versions.items())
    return (
        f"<table><tr><th>engine</th><th>backend</th><th>version</th></tr>{rows}</table>"
        f"<p>{versions}</p>"
    )


def _divergences(report: RunReport) -> str:
    if not report.divergences:
        return "<p>No divergences.</p>"
    parts = []
    for div in report.divergences:
        tag = " (known: " + escape(div["known"]) + ")" if div.get("known") else ""
        parts.append(
            f'<section id="{escape(div["id"])}"><h3>{escape(div["scenario"])}: '
            f"{escape(', '.join(div['backends']))} at step {div['step']} "
            f"of {div['steps']}{tag}</h3>"
            f"<p>Replay: <code>{escape(div['replay'])}</code></p>"
            f"<pre>{escape(div['diff'])}</pre></section>"
        )
    return "".join(parts)


def _contract(report: RunReport) -> str:
    if not report.contract_failures:
        return ""
    items = "".join(
        f"<li><code>{escape(f['operation'])}</code> on {escape(f['backend'])}: "
        f"{escape(f['check'])}: {escape(f['message'])}<pre>{escape(f.get('curl', ''))}</pre></li>"
        for f in report.contract_failures
    )
    return f"<h2>Contract failures</h2><ul>{items}</ul>"


def render(report: RunReport) -> str:
    verdict = {0: "parity", 1: "divergence", 2: "infrastructure error"}.get(
        report.exit_code, str(report.exit_code)
    )
    counts = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parity report: {escape(verdict)}</title>
<style>{CSS}</style></head><body>
<h1 class="verdict-{report.exit_code}">Parity: {escape(verdict)}</h1>
<div class="meta">run {escape(report.run_id)} · reference {escape(report.reference)} ·
seed {report.seed} · {report.seconds:.1f}s · {escape(counts)} ·
machines {escape(", ".join(report.machines))}</div>
<h2>Matrix</h2>{_matrix(report)}
<h2>Divergences</h2>{_divergences(report)}
{_contract(report)}
<h2>Timings</h2>{_timings(report)}
<h2>Engines</h2>{_engines(report)}
</body></html>
"""


def write(report: RunReport, directory: Path) -> Path:
    path = directory / FILENAME
    path.write_text(render(report))
    return path
