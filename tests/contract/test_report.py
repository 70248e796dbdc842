"""Contract results reach the report through the event stream: a contract section per
operation x backend with the check name, a curl reproduction and the replay command,
in parity.json and in junit.xml."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from parity.baseline import Baseline
from parity.config import ParityConfig
from parity.contract import suite
from parity.report.events import EventBus
from parity.report.junit import render
from parity.report.model import ReportBuilder
from parity.run.backends import Backends
from parity.run.context import RunContext
from tests.contract.conftest import planted_factory


def test_failures_land_in_report_and_junit(
    config: ParityConfig, backends: Backends, tmp_path: Path
) -> None:
    base = backends.factories["sqlite"]
    planted = Backends(
        backends.reference,
        backends.engines,
        {
            "memory": backends.factories["memory"],
            "sqlite": planted_factory(base, "undocumented-status"),  # type: ignore[arg-type]
        },
        backends.info,
        backends.prepared,
    )
    builder = ReportBuilder()
    ctx = RunContext(
        config=config,
        backends=planted,
        bus=EventBus([builder]),
        baseline=Baseline([]),
        seed=4,
        examples=3,
        steps=5,
        report_dir=tmp_path,
        run_id="abcdef123456",
        backend_names=planted.names,
    )
    suite.run(ctx)
    report = builder.report
    key = "contract/GET /v1/cards/{card_id}"
    assert report.cells[key]["sqlite"]["status"] == "fail"
    assert report.cells[key]["memory"]["status"] == "pass"
    assert report.cells["contract/GET /v1/users/me"]["sqlite"]["status"] == "pass"
    failures = [f for f in report.contract_failures if f["operation"] == "GET /v1/cards/{card_id}"]
    assert {f["check"] for f in failures} >= {"status_code_conformance"}
    assert all(f["backend"] == "sqlite" for f in failures)
    first = failures[0]
    assert first["curl"].startswith("curl -X GET")
    assert "python -m parity.contract" in first["replay"] and "--seed 4" in first["replay"]
    assert [d for d in report.divergences if d["scenario"] == "GET /v1/cards/{card_id}"]
    assert report.verdict_exit_code() == 1

    root = ET.fromstring(render(report))
    contract = next(s for s in root.iter("testsuite") if s.get("name") == "contract")
    cases = [
        c
        for c in contract.iter("testcase")
        if c.get("classname") == f"contract/{first['operation']}"
    ]
    assert cases and all(c.get("name") == "sqlite" for c in cases)
    messages = {c.find("failure").get("message") for c in cases}  # type: ignore[union-attr]
    assert "status_code_conformance" in messages
