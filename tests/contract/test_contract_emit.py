"""Issue 13's "done when", contract side: a planted fault the contract suite catches
(``score`` sent as text by GET /v1/users/me on one backend) produces a trace whose HTML
report shows every call, whose ``parity replay --emit pytest`` file fails against the
faulty backend and passes against a healthy one, and whose replay shows the same
divergence. (The scenario side is tests/harness/test_emit.py.)
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from html import escape as html_escape
from pathlib import Path

from parity.baseline import Baseline
from parity.config import ParityConfig
from parity.contract import suite
from parity.engines.registry import create_engine
from parity.lockstep.session import LockstepSession
from parity.report.events import DivergenceFound, Event, EventBus, RunFinished, RunStarted
from parity.report.model import ReportBuilder
from parity.report.writers import FilesHandler
from parity.run.backends import Backends
from parity.run.context import RunContext
from parity.targets.factory import AppTargetFactory
from parity.targets.http import serve
from parity.trace.replay import replay
from parity.trace.store import load_trace
from tests.contract.conftest import (
    FAULTS,
    RewriteMiddleware,
    make_runner,
    operation,
    planted_factory,
)
from tests.processes import parity_command

ROOT = Path(__file__).resolve().parents[2]
FAULT = "schema-violation"


@contextlib.contextmanager
def _served(backends: Backends, name: str, faulty: bool) -> Iterator[str]:
    """A fresh app of backend ``name`` (the planted fault around it when ``faulty``)
    under uvicorn on loopback; its base URL."""
    engine = create_engine(backends.engines[name].name)
    engine.start()
    try:
        binding = backends.binding
        assert binding is not None
        app = binding.build_app(engine.store("emitted"))
        if faulty:
            method, prefix, rewrite = FAULTS[FAULT]
            app = RewriteMiddleware(app, method, prefix, rewrite)
        with serve(app) as url:
            yield url
    finally:
        engine.stop()


def _run_emitted(
    test_file: Path, backends: Backends, faulty: bool
) -> subprocess.CompletedProcess[str]:
    with _served(backends, "memory", False) as ref, _served(backends, "sqlite", faulty) as other:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_X", "PARITY_URL"))}
        env |= {"PARITY_URL_MEMORY": ref, "PARITY_URL_SQLITE": other}
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
            capture_output=True,
            text=True,
            cwd=test_file.parent,  # outside the project: the file needs nothing of it
            env=env,
            timeout=300,
        )


class _Collect:
    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def handle(self, event: Event) -> None:
        self.events.append(event)


def test_contract_fault_trace_shows_every_call_emits_a_failing_test_and_replays(
    config: ParityConfig, backends: Backends, tmp_path: Path
) -> None:
    base = backends.factories["sqlite"]
    assert isinstance(base, AppTargetFactory)
    planted = Backends(
        backends.reference,
        backends.engines,
        {"memory": backends.factories["memory"], "sqlite": planted_factory(base, FAULT)},
        backends.info,
        backends.prepared,
    )
    events: list[Event] = []
    builder = ReportBuilder()
    bus = EventBus([builder, _Collect(events), FilesHandler(builder, tmp_path)])
    ctx = RunContext(
        config=config,
        backends=planted,
        bus=bus,
        baseline=Baseline([]),
        seed=3,
        examples=6,
        steps=5,
        report_dir=tmp_path,
        run_id="c0ffee000013",
        backend_names=planted.names,
    )
    bus.emit(
        RunStarted("c0ffee000013", "memory", planted.names, ["contract"], 3, 6, {}, {}, "here")
    )
    runner = make_runner(config, planted, seed=3, examples=6)
    try:
        suite.report(ctx, runner.run_operation(operation(runner, "GET /v1/users/me")))
        divergence = next(e for e in events if isinstance(e, DivergenceFound))
        assert divergence.backends == ["sqlite"] and divergence.trace_path
        trace_path = divergence.trace_path
        trace = load_trace(Path(trace_path))
        assert len(trace.steps) >= 2  # the auth set-up, then the case

        # the replay (through a lockstep session, as `parity replay` does) diverges alike
        session = LockstepSession(
            runner.factories, trace.reference, namespace_prefix="t_emit", seed=trace.replay_seed
        )
        try:
            result = replay(trace, session)
        finally:
            session.close()
        assert result.divergence is not None
        assert result.same_divergence_as(trace), (
            trace.divergence_signature(),
            result.trace.divergence_signature(),
        )
    finally:
        runner.close()
    bus.emit(RunFinished(1, 1.0))

    # the HTML report lists every call of the trace, the diverging one marked
    html = (tmp_path / "index.html").read_text()
    calls = re.findall(r"<ol class=\"calls\" start=\"0\">(.*?)</ol>", html, re.S)
    assert calls, html[:2000]
    items = re.findall(r"<li value=\"(\d+)\"", calls[0])
    assert [int(i) for i in items] == [s.index for s in trace.steps]
    for step in trace.steps:
        assert html_escape(step.request.path.split("?")[0]) in calls[0]
    assert calls[0].count('class="diverged"') == 1

    # the emitted pytest file: fails on the faulty backend, passes on a healthy one
    test_file = tmp_path / "emitted" / "test_contract_repro.py"
    proc = subprocess.run(
        parity_command("replay", trace_path, "--emit", "pytest", "--out", str(test_file)),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    faulty = _run_emitted(test_file, planted, faulty=True)
    assert faulty.returncode == 1, faulty.stdout + faulty.stderr
    assert "score" in faulty.stdout, faulty.stdout
    healthy = _run_emitted(test_file, planted, faulty=False)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "1 passed" in healthy.stdout
