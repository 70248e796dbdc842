"""``summary.md``: a short verdict for a CI step summary (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parity.report import capabilities, coverage
from parity.report.model import RunReport
from parity.report.repro import call_line, enrich, value_text

FILENAME = "summary.md"
REFERENCE = "🔵 reference"
ICONS = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "known": "⚠️ known",
    "unsupported": "➖ unsupported",  # noqa: RUF001
    "error": "💥 error",
    "skipped": "⏭️ not run",
}


def _md_code(text: str) -> str:
    """Inline code that survives backticks in ``text``."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def _differences(div: dict[str, Any]) -> list[str]:
    """The changed values as a ``diff`` block (GitHub colours - red, + green)."""
    diffs = div.get("differences") or []
    if not diffs:
        return []
    out = ["```diff"]
    for d in diffs:
        out.append(f"- {d['path']}: {value_text(d['expected'])}  (reference)")
        out.append(f"+ {d['path']}: {value_text(d['actual'])}  ({d['backend']})")
    return [*out, "```", ""]


def _runs(report: RunReport) -> list[str]:
    runs = report.all_runs()
    if len(runs) < 2:
        return []
    lines = ["", "## Runs merged", "", "| run | seed | shard | machines | started | took | exit |"]
    lines.append("|---|---|---|---|---|---|---|")
    for r in runs:
        lines.append(
            f"| {r.get('run_id', '')} | {r.get('seed')} | {r.get('shard') or 'whole'} "
            f"| {', '.join(r.get('machines') or [])} "
            f"| {r.get('started_at') or 'unknown'} | {float(r.get('seconds') or 0):.1f}s "
            f"| {r.get('exit_code')} |"
        )
    return lines


def render(report: RunReport) -> str:
    verdict = report.verdict()
    counts = report.counts()
    seeds = ", ".join(dict.fromkeys(str(r.get("seed")) for r in report.all_runs()))
    lines = [
        f"# Parity: {verdict}",
        "",
        f"Run {report.started_at or 'date unknown'}; reference **{report.reference}**; "
        f"backends {', '.join(report.backends)}; seed {seeds}; {report.seconds:.1f}s.",
        "",
        " · ".join(f"{n} {k}" for k, n in counts.items() if n),
        "",
        "| scenario | " + " | ".join(report.backends) + " |",
        "|---|" + "---|" * len(report.backends),
    ]
    for key, row in report.cells.items():
        cells = [
            (REFERENCE if b == report.reference and row[b]["status"] == "pass" else "")
            or ICONS.get(row[b]["status"], row[b]["status"])
            if b in row
            else ""
            for b in report.backends
        ]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    failing = [enrich(d) for d in report.failing_divergences()]
    if failing:
        lines += ["", "## Divergences", ""]
        for div in failing:
            calls = [call_line(c, report.reference) for c in div.get("calls") or []]
            lines += [
                f"### {div['scenario']}: {', '.join(div['backends'])} at step {div['step']}",
                "",
                f"Replay: {_md_code(div['replay'])}",
                "",
            ]
            if calls:
                lines += [f"Calls ({len(calls)}):", "", "```", *calls, "```", ""]
            lines += _differences(div)
            lines += [
                "<details><summary>side by side</summary>",
                "",
                "```",
                div["diff"],
                "```",
                "",
                "</details>",
                "",
            ]
    if report.contract_failures:
        lines += ["", "## Contract failures", ""]
        lines += [
            f"- `{f['operation']}` on {f['backend']}: {f['check']}: {f['message']}"
            for f in report.contract_failures
        ]
    lines += coverage.markdown(report)
    lines += capabilities.markdown(report)
    lines += _runs(report)
    return "\n".join(lines) + "\n"


def write(report: RunReport, directory: Path) -> Path:
    path = directory / FILENAME
    path.write_text(render(report))
    return path
