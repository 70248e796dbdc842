"""``junit.xml``: one testsuite per scenario, one testcase per backend, so CI systems
show a parity failure like any failing test (with the diff as the failure text)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from parity.report.model import RunReport
from parity.report.repro import call_line, enrich

FILENAME = "junit.xml"


def _failure_text(div: dict[str, Any], reference: str) -> str:
    calls = [call_line(c, reference) for c in div.get("calls") or []]
    head = f"calls ({len(calls)}):\n" + "\n".join(calls) + "\n\n" if calls else ""
    return f"{head}{div['diff']}\n\nreplay: {div['replay']}"


def render(report: RunReport) -> str:
    root = ET.Element("testsuites", name="parity", time=f"{report.seconds:.3f}")
    if report.started_at:
        root.set("timestamp", report.started_at)
    divergences = {d["id"]: enrich(d) for d in report.divergences}
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for key, row in report.cells.items():
        suite = ET.SubElement(root, "testsuite", name=key)
        counts = dict.fromkeys(totals, 0)
        for backend, cell in row.items():
            case = ET.SubElement(
                suite, "testcase", classname=key, name=backend, time=f"{cell['seconds']:.3f}"
            )
            counts["tests"] += 1
            status = cell["status"]
            div = divergences.get(cell.get("divergence") or "")
            text = _failure_text(div, report.reference) if div else cell.get("reason", "")
            if status == "fail":
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=f"divergence on {backend}").text = text
            elif status == "error":
                counts["errors"] += 1
                ET.SubElement(case, "error", message=cell.get("reason", "error")).text = text
            elif status in ("unsupported", "known", "skipped"):
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"{status}: {cell.get('reason', '')}")
        for name, value in counts.items():
            suite.set(name, str(value))
            totals[name] += value
    if report.contract_failures:
        suite = ET.SubElement(root, "testsuite", name="contract")
        for failure in report.contract_failures:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"contract/{failure['operation']}",
                name=failure["backend"],
            )
            ET.SubElement(
                case, "failure", message=failure["check"]
            ).text = f"{failure['message']}\n{failure.get('curl', '')}"
        suite.set("tests", str(len(report.contract_failures)))
        suite.set("failures", str(len(report.contract_failures)))
        totals["tests"] += len(report.contract_failures)
        totals["failures"] += len(report.contract_failures)
    for name, value in totals.items():
        root.set(name, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write(report: RunReport, directory: Path) -> Path:
    path = directory / FILENAME
    path.write_text(render(report))
    return path
