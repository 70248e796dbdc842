"""The coverage table: what a run exercised, per scenario, in Markdown and HTML.

"No divergence" means something only next to what was reached. For each scenario the
table lists every rule and documented path with how often it ran on the reference and
the backends that never reached it, and every endpoint with the statuses it answered
(a backend whose statuses differ from the reference's is named). Gaps come first: a
rule or path some backend never reached is what a migration sign-off must look at.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from parity.lockstep.coverage import gaps
from parity.report.model import RunReport


def _scenario_coverage(report: RunReport) -> list[tuple[str, dict[str, Any]]]:
    return [
        (key, info["coverage"])
        for key, info in report.scenarios.items()
        if isinstance(info.get("coverage"), dict)
    ]


def _backends_of(report: RunReport, key: str) -> list[str]:
    """The backends that ran this scenario (unsupported cells reach nothing, by design)."""
    row = report.cells.get(key, {})
    return [b for b in report.backends if row.get(b, {}).get("status") not in (None, "unsupported")]


def _statuses(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{status}×{n}" for status, n in sorted(counts.items()))  # noqa: RUF001


def _rows(report: RunReport, key: str, coverage: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """(kind, name, on the reference, where it differs) for every rule, path, endpoint."""
    backends = _backends_of(report, key)
    ref = report.reference
    rows: list[tuple[str, ...]] = []
    for kind in ("rules", "paths"):
        for name, row in sorted((coverage.get(kind) or {}).items()):
            missing = [b for b in backends if not row.get(b)]
            rows.append((kind[:-1], name, str(row.get(ref, 0)), ", ".join(missing)))
    for endpoint, row in sorted((coverage.get("endpoints") or {}).items()):
        expected = row.get(ref, {})
        differ = [b for b in backends if b != ref and row.get(b, {}) != expected]
        rows.append(("endpoint", endpoint, _statuses(expected), ", ".join(differ)))
    return rows


_UNREACHED = ' class="fail"'


def all_gaps(report: RunReport) -> list[str]:
    return [
        f"{key}: {gap}"
        for key, coverage in _scenario_coverage(report)
        for gap in gaps(coverage, _backends_of(report, key))
    ]


def markdown(report: RunReport) -> list[str]:
    sections = _scenario_coverage(report)
    if not sections:
        return []
    found = all_gaps(report)
    lines = ["", "## Coverage", ""]
    lines += [f"- ⚠️ {gap}" for gap in found] or ["Every rule and documented path was reached."]
    for key, coverage in sections:
        rows = _rows(report, key, coverage)
        lines += [
            "",
            f"<details><summary>{key}: {len(rows)} rules, paths and endpoints</summary>",
            "",
            f"| what | name | on {report.reference} | not reached / differs on |",
            "|---|---|---|---|",
            *(f"| {kind} | `{name}` | {count} | {where} |" for kind, name, count, where in rows),
            "",
            "</details>",
        ]
    return lines


def html(report: RunReport) -> str:
    sections = _scenario_coverage(report)
    if not sections:
        return ""
    found = all_gaps(report)
    intro = (
        "<ul>" + "".join(f"<li>{escape(g)}</li>" for g in found) + "</ul>"
        if found
        else "<p>Every rule and documented path was reached.</p>"
    )
    parts = []
    for key, coverage in sections:
        body = "".join(
            f"<tr><td>{escape(kind)}</td><td><code>{escape(name)}</code></td>"
            f"<td{_UNREACHED if count in ('0', '') else ''}>{escape(count)}</td>"
            f"<td>{escape(where)}</td></tr>"
            for kind, name, count, where in _rows(report, key, coverage)
        )
        parts.append(
            f"<details><summary>{escape(key)}</summary><table><tr><th>what</th><th>name</th>"
            f"<th>on {escape(report.reference)}</th><th>not reached / differs on</th></tr>"
            f"{body}</table></details>"
        )
    return f'<h2 id="coverage">Coverage</h2>{intro}{"".join(parts)}'
