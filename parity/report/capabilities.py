"""The capability matrix in a report: engine by capability, with the probe's evidence,
and the scenario cells reported *unsupported* because an engine lacked one.

Every engine's row comes from :func:`parity.engines.capabilities.probe_capabilities` at
start (``report.engines[name]["capabilities"]``), so the matrix says why a cell was not
run before anyone reads a divergence that an emulator, not the app, would have caused.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parity.report.model import RunReport

ICONS = {"ok": "✅ ok", "unsupported": "➖ unsupported", "not probed": "· not probed"}  # noqa: RUF001


def matrix(report: RunReport) -> dict[str, dict[str, dict[str, str]]]:
    """engine -> capability -> ``{"status", "evidence"}`` (engines without a probe row,
    e.g. a URL target or an older report, are left out)."""
    return {
        name: dict(info["capabilities"])
        for name, info in report.engines.items()
        if isinstance(info.get("capabilities"), dict) and info["capabilities"]
    }


def capability_names(rows: dict[str, dict[str, dict[str, str]]]) -> list[str]:
    return list(dict.fromkeys(c for row in rows.values() for c in row))


def unsupported_cells(report: RunReport) -> list[dict[str, Any]]:
    """Scenario cells marked unsupported because their backend lacks a capability the
    scenario requires: ``{"scenario", "backend", "capabilities", "reason"}``."""
    rows = matrix(report)
    out = []
    for scenario, row in report.cells.items():
        for backend, cell in row.items():
            reason = str(cell.get("reason") or "")
            if cell.get("status") != "unsupported" or not reason.startswith("needs "):
                continue
            needed = reason[len("needs ") :].split(":", 1)[0]
            lacking = [c.strip() for c in needed.split(",") if c.strip()]
            probed = rows.get(backend, {})
            out.append(
                {
                    "scenario": scenario,
                    "backend": backend,
                    "capabilities": [c for c in lacking if probed.get(c, {}).get("status") != "ok"],
                    "reason": reason,
                }
            )
    return out


def to_json(report: RunReport) -> dict[str, Any]:
    return {"engines": matrix(report), "unsupported_cells": unsupported_cells(report)}


def markdown(report: RunReport) -> list[str]:
    rows = matrix(report)
    if not rows:
        return []
    names = capability_names(rows)
    lines = ["", "## Capabilities", "", "| engine | " + " | ".join(names) + " |"]
    lines.append("|---|" + "---|" * len(names))
    evidence: list[str] = []
    for engine, row in rows.items():
        cells = []
        for name in names:
            finding = row.get(name, {"status": "not probed", "evidence": ""})
            cells.append(ICONS.get(finding["status"], finding["status"]))
            if finding["status"] == "unsupported":
                evidence.append(f"- **{engine}** lacks `{name}`: {finding['evidence']}")
        lines.append(f"| {engine} | " + " | ".join(cells) + " |")
    lines += ["", *evidence] if evidence else []
    cells_off = unsupported_cells(report)
    if cells_off:
        lines += ["", "Scenario cells marked unsupported because of it:", ""]
        lines += [
            f"- {c['scenario']} on {c['backend']}: needs {', '.join(c['capabilities'])}"
            for c in cells_off
        ]
    return lines


def html(report: RunReport) -> str:
    rows = matrix(report)
    if not rows:
        return ""
    names = capability_names(rows)
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = []
    for engine, row in rows.items():
        tds = []
        for name in names:
            finding = row.get(name, {"status": "not probed", "evidence": ""})
            status = finding["status"]
            css = {"ok": "pass", "unsupported": "unsupported"}.get(status, "")
            tds.append(
                f'<td class="{css}" title="{escape(finding["evidence"])}">'
                f"{escape(status)}<br><small>{escape(finding['evidence'])}</small></td>"
            )
        body.append(f"<tr><th>{escape(engine)}</th>{''.join(tds)}</tr>")
    cells_off = "".join(
        f"<li>{escape(c['scenario'])} on {escape(c['backend'])}: needs "
        f"{escape(', '.join(c['capabilities']))}</li>"
        for c in unsupported_cells(report)
    )
    listing = (
        f"<p>Scenario cells marked unsupported because of it:</p><ul>{cells_off}</ul>"
        if cells_off
        else "<p>No scenario cell was marked unsupported for a missing capability.</p>"
    )
    return (
        f'<h2>Capabilities</h2><table id="capabilities"><thead><tr><th>engine</th>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table>{listing}"
    )
