"""``summary.md``: a short verdict for a CI step summary (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from pathlib import Path

from parity.report.model import RunReport

FILENAME = "summary.md"
ICONS = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "known": "⚠️ known",
    "unsupported": "➖ unsupported",  # noqa: RUF001
    "error": "💥 error",
}


def render(report: RunReport) -> str:
    verdict = (
        "parity" if report.exit_code == 0 else "DIVERGENCE" if report.exit_code == 1 else "ERROR"
    )
    counts = report.counts()
    lines = [
        f"# Parity: {verdict}",
        "",
        f"Reference **{report.reference}**; backends {', '.join(report.backends)}; "
        f"seed {report.seed}; {report.seconds:.1f}s.",
        "",
        " · ".join(f"{n} {k}" for k, n in counts.items() if n),
        "",
        "| scenario | " + " | ".join(report.backends) + " |",
        "|---|" + "---|" * len(report.backends),
    ]
    for key, row in report.cells.items():
        cells = [
            ICONS.get(row[b]["status"], row[b]["status"]) if b in row else ""
            for b in report.backends
        ]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    failing = [d for d in report.divergences if not d.get("known")]
    if failing:
        lines += ["", "## Divergences", ""]
        for div in failing:
            lines += [
                f"### {div['scenario']}: {', '.join(div['backends'])} at step {div['step']}",
                "",
                f"Replay: `{div['replay']}`",
                "",
                "```",
                div["diff"],
                "```",
                "",
            ]
    if report.contract_failures:
        lines += ["", "## Contract failures", ""]
        lines += [
            f"- `{f['operation']}` on {f['backend']}: {f['check']}: {f['message']}"
            for f in report.contract_failures
        ]
    return "\n".join(lines) + "\n"


def write(report: RunReport, directory: Path) -> Path:
    path = directory / FILENAME
    path.write_text(render(report))
    return path
