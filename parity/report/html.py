"""``index.html``: one self-contained page (no external assets) with the matrix scenario x
backend, each divergence's diff and replay command, timings and engine versions."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from parity.report import capabilities, coverage
from parity.report.model import RunReport
from parity.report.repro import call_parts, enrich, status_text, value_text

FILENAME = "index.html"

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#fff}
h1{margin:0 0 .3rem} .meta{color:#57606a;margin-bottom:1.2rem}
table{border-collapse:collapse;margin:.6rem 0 1.4rem} th,td{border:1px solid #d0d7de;
padding:.35rem .7rem;text-align:left} th{background:#f6f8fa}
td.pass{background:#dafbe1} td.fail{background:#ffebe9;font-weight:600}
td.known{background:#fff8c5} td.unsupported{background:#eaeef2;color:#57606a}
td.skipped{background:#eaeef2;color:#57606a}
td.error{background:#ff8182;font-weight:600}
pre{background:#f6f8fa;padding:.8rem;overflow-x:auto;font-size:12px;border-radius:6px}
code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}
.verdict-0{color:#1a7f37} .verdict-1{color:#cf222e} .verdict-2{color:#9a6700}
td.reference{background:#ddf4ff;color:#0969da}
ol.calls{font:12px ui-monospace,monospace;padding-left:2.2rem} ol.calls li{margin:.1rem 0}
ol.calls li.diverged{background:#ffebe9;font-weight:600}
.hdr{color:#57606a} .st{color:#57606a} .body{color:#0550ae}
del.exp{background:#dafbe1;color:#116329;text-decoration:none;padding:0 .2rem}
ins.act{background:#ffebe9;color:#a40e26;text-decoration:none;padding:0 .2rem}
pre .chg{background:#ffebe9;color:#a40e26;display:inline-block;min-width:100%}
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
            if backend == report.reference and status == "pass":
                status = "reference"
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


def _calls(div: dict[str, Any], reference: str) -> str:
    """The shrunk sequence of calls, the diverging one marked."""
    items = []
    for call in div.get("calls") or []:
        request, body, headers = call_parts(call)
        cls = ' class="diverged"' if call.get("diverged") else ""
        items.append(
            f'<li value="{call["index"]}"{cls}>{escape(request)}'
            + (f' <span class="body">{escape(body)}</span>' if body else "")
            + (f' <span class="hdr">[{escape(headers)}]</span>' if headers else "")
            + f' <span class="st">&rarr; {escape(status_text(call, reference))}</span></li>'
        )
    if not items:
        return ""
    return f'<h4>Calls ({len(items)})</h4><ol class="calls" start="0">{"".join(items)}</ol>'


def _differences(div: dict[str, Any], reference: str) -> str:
    rows = "".join(
        f"<tr><td>{escape(d['backend'])}</td><td><code>{escape(d['path'])}</code></td>"
        f'<td><del class="exp">{escape(value_text(d["expected"]))}</del></td>'
        f'<td><ins class="act">{escape(value_text(d["actual"]))}</ins></td></tr>'
        for d in div.get("differences") or []
    )
    if not rows:
        return ""
    return (
        f'<table class="differences"><tr><th>backend</th><th>path</th>'
        f"<th>{escape(reference)} (reference)</th><th>backend answered</th></tr>{rows}</table>"
    )


def highlight_diff(text: str) -> str:
    """The side-by-side diff, escaped, with the differing (``!``) lines marked."""
    out = []
    for line in text.splitlines():
        if line.startswith("!"):
            out.append(f'<span class="chg">{escape(line)}</span>')
        else:
            out.append(escape(line))
    return "\n".join(out)


def _divergences(report: RunReport) -> str:
    if not report.divergences:
        return "<p>No divergences.</p>"
    parts = []
    for div in map(enrich, report.divergences):
        tag = " (known: " + escape(div["known"]) + ")" if div.get("known") else ""
        parts.append(
            f'<section id="{escape(div["id"])}"><h3>{escape(div["scenario"])}: '
            f"{escape(', '.join(div['backends']))} at step {div['step']} "
            f"of {div['steps']}{tag}</h3>"
            f"<p>Replay: <code>{escape(div['replay'])}</code></p>"
            f"{_calls(div, report.reference)}"
            f"<h4>Step {div['step']}: what differs</h4>"
            f"{_differences(div, report.reference)}"
            f"<pre>{highlight_diff(div['diff'])}</pre></section>"
        )
    return "".join(parts)


def _runs(report: RunReport) -> str:
    """Every run a (merged) report is made of: seed, shard, machines, date."""
    runs = report.all_runs()
    if len(runs) < 2:
        return ""
    rows = "".join(
        f"<tr><td>{escape(str(r.get('run_id', '')))}</td><td>{r.get('seed')}</td>"
        f"<td>{escape(r.get('shard') or 'whole')}</td>"
        f"<td>{escape(', '.join(r.get('machines') or []))}</td>"
        f"<td>{escape(r.get('started_at') or 'unknown')}</td>"
        f"<td>{float(r.get('seconds') or 0):.1f}s</td><td>{r.get('exit_code')}</td></tr>"
        for r in runs
    )
    return (
        "<h2>Runs merged</h2><table><tr><th>run</th><th>seed</th><th>shard</th><th>machines</th>"
        f"<th>started</th><th>took</th><th>exit</th></tr>{rows}</table>"
    )


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
    verdict = report.verdict()
    counts = ", ".join(f"{n} {k}" for k, n in report.counts().items() if n)
    seeds = ", ".join(dict.fromkeys(str(r.get("seed")) for r in report.all_runs()))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parity report: {escape(verdict)}</title>
<style>{CSS}</style></head><body>
<h1 class="verdict-{report.exit_code}">{escape(verdict[:1].upper() + verdict[1:])}</h1>
<div class="meta">run {escape(report.run_id)} · {escape(report.started_at or "date unknown")} ·
reference {escape(report.reference)} · seed {escape(str(seeds))} · {report.seconds:.1f}s ·
{escape(counts)} · machines {escape(", ".join(report.machines))}</div>
<h2>Matrix</h2>{_matrix(report)}
<h2>Divergences</h2>{_divergences(report)}
{_contract(report)}
{coverage.html(report)}
{_runs(report)}
<h2>Timings</h2>{_timings(report)}
<h2>Engines</h2>{_engines(report)}
{capabilities.html(report)}
</body></html>
"""


def write(report: RunReport, directory: Path) -> Path:
    path = directory / FILENAME
    path.write_text(render(report))
    return path
