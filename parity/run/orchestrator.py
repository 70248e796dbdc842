"""``parity run`` from options to exit code: 0 parity, 1 divergence, 2 infrastructure."""

from __future__ import annotations

import platform
import random
import shlex
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from parity.baseline import BaselineError, load_baseline
from parity.config import ConfigError, ParityConfig
from parity.lockstep.session import LockstepSession
from parity.report.events import (
    Event,
    EventBus,
    Handler,
    Progress,
    RunFinished,
    RunStarted,
    ScenarioFinished,
    ScenarioStarted,
)
from parity.report.model import ReportBuilder, RunReport
from parity.report.terminal import TerminalHandler
from parity.report.writers import FilesHandler
from parity.run import regressions
from parity.run.backends import Backends, InfraError, app_record, default_backends, provision
from parity.run.context import FailFast, RunContext
from parity.run.shard import WHOLE, Shard
from parity.suites.registry import SuiteNotInstalled, load_suite
from parity.trace.model import collect_versions

SUITE_CHOICES = ("scenarios", "contract", "ports", "all")


@dataclass
class RunOptions:
    backends: list[str] | None = None
    suite: str = "scenarios"
    examples: int | None = None
    steps: int | None = None
    shrink_examples: int | None = None
    #: scenario name -> at most this many examples (None: ``[tool.parity]``'s)
    scenario_max_examples: dict[str, int] | None = None
    seed: int | None = None
    report_dir: Path | None = None
    transport: str = "asgi"
    regressions: bool = True
    worker: str = "main"
    #: the part of the run this process does (``--shard K/N``, ``-n`` workers)
    shard: Shard = WHOLE
    run_id: str | None = None
    write_files: bool = True
    handlers: list[Handler] = field(default_factory=list)
    terminal: bool = True
    #: run only these scenarios (names); None runs every registered one
    scenarios: list[str] | None = None
    #: stop at the first failing cell; what did not run is reported as skipped
    fail_fast: bool = False


def suite_names(suite: str) -> list[str]:
    if suite not in SUITE_CHOICES:
        raise ConfigError(f"--suite must be one of {', '.join(SUITE_CHOICES)}, not {suite!r}")
    return ["scenarios", "contract"] if suite == "all" else [suite]


class ProgressTicker:
    """Emits :class:`Progress` (examples done of the scenario's total) once a second
    while a scenario runs, counting the examples its lockstep sessions finished."""

    def __init__(
        self,
        bus: EventBus,
        total: int,
        totals: dict[str, int] | None = None,
        period: float = 1.0,
    ) -> None:
        self.bus = bus
        self.default_total = max(1, total)
        self.total = self.default_total
        #: scenario name -> its own total (a scenario_max_examples cap)
        self.totals = dict(totals or {})
        self.period = period
        self._lock = threading.Lock()
        self._sessions: list[LockstepSession] = []
        self._current: ScenarioStarted | None = None
        self._started = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, session: LockstepSession) -> None:
        with self._lock:
            self._sessions.append(session)

    def handle(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, ScenarioStarted):
                self._current, self._sessions = event, []
                self.total = max(1, self.totals.get(event.scenario, self.default_total))
                self._started = time.perf_counter()
            elif isinstance(event, ScenarioFinished | RunFinished):
                self._current, self._sessions = None, []

    def snapshot(self) -> Progress | None:
        with self._lock:
            current = self._current
            if current is None:
                return None
            done = sum(s.stats.examples for s in self._sessions)
            return Progress(
                current.suite,
                current.scenario,
                min(done, self.total),
                self.total,
                time.perf_counter() - self._started,
            )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="parity-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            event = self.snapshot()
            if event is not None:
                self.bus.emit(event)


@dataclass
class TrackedContext(RunContext):
    """The run context of ``parity run``: its sessions feed the progress ticker, and
    replay commands are quoted for a shell (a path with spaces pastes whole)."""

    ticker: ProgressTicker | None = None

    def session(self, names: list[str], label: str) -> LockstepSession:
        session = super().session(names, label)
        if self.ticker is not None:
            self.ticker.watch(session)
        return session

    def replay_command(self, trace_path: Path | str, backends: list[str]) -> str:
        return shlex.join(["parity", "replay", str(trace_path), "--backends", ",".join(backends)])


def check_scenarios(config: ParityConfig, suites: list[str], wanted: list[str] | None) -> None:
    """Unknown ``--scenarios`` names are a user error before anything starts."""
    if not wanted:
        return
    if suites == ["ports"]:
        from parity.ports.suite import check_port_scenarios

        check_port_scenarios(config, wanted)
        return
    if "scenarios" not in suites:
        raise ConfigError(
            f"--scenarios selects lockstep scenarios, but --suite {suites[0]} runs none of "
            "them: use --suite scenarios or --suite all"
        )
    from parity.suites.registry import discover_scenarios
    from parity.suites.scenarios import check_names

    check_names(discover_scenarios(config.scenarios), wanted)


def check_scenario_caps(config: ParityConfig, suites: list[str], caps: dict[str, int]) -> None:
    """A ``scenario_max_examples`` entry naming no scenario is a typo: one line, exit 2
    (a silently ignored cap would leave a scenario at full depth, or the other way)."""
    if not caps or "scenarios" not in suites:
        return
    from parity.suites.registry import discover_scenarios
    from parity.suites.scenarios import check_names

    try:
        check_names(discover_scenarios(config.scenarios), sorted(caps))
    except InfraError as exc:
        raise ConfigError(f"scenario_max_examples: {exc}") from exc


@dataclass
class RunOutcome:
    exit_code: int
    report: RunReport
    files: list[Path]


def check_report_dir(path: Path, option: str = "--report-dir") -> None:
    """A report directory that cannot be one is a user error (exit 2), found before any
    engine starts: an existing file, or a file where a parent directory should be."""
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            raise ConfigError(f"{option} {path}: {part} is a file, not a directory")
        if part.exists():
            break


def execute(options: RunOptions, config: ParityConfig) -> RunOutcome:
    """Run everything; raise :class:`InfraError` (exit 2) before anything is compared
    when the run cannot start."""
    names = suite_names(options.suite)
    try:
        suites: list[tuple[str, Callable[[Any], None]]] = [(n, load_suite(n)) for n in names]
    except SuiteNotInstalled as exc:
        raise InfraError(str(exc)) from exc
    try:
        baseline = load_baseline(config.baseline)
    except BaselineError as exc:
        raise InfraError(str(exc)) from exc
    check_scenarios(config, names, options.scenarios)
    seed = options.seed if options.seed is not None else random.randrange(2**31)
    backends_wanted = options.backends or list(config.backends) or default_backends()
    report_dir = options.report_dir or config.report_dir
    check_report_dir(report_dir)
    if names == ["ports"]:  # port scenarios build their own implementations: no app
        from parity.ports.suite import planned_backends

        backends = Backends(config.reference)
        columns = planned_backends(config, options.backends, options.scenarios)
    else:
        backends = provision(backends_wanted, config, seed, options.transport)
        columns = backends.names
    run_id = options.run_id or uuid.uuid4().hex[:12]
    builder = ReportBuilder()
    bus = EventBus([builder, *options.handlers])
    examples = options.examples or config.examples
    caps = (
        config.scenario_max_examples
        if options.scenario_max_examples is None
        else options.scenario_max_examples
    )
    ticker = ProgressTicker(
        bus,
        options.shard.examples(examples),
        {name: options.shard.examples(min(examples, cap)) for name, cap in caps.items()},
    )
    bus.add(ticker)
    if options.terminal:
        bus.add(TerminalHandler())
    files = FilesHandler(builder, report_dir)
    if options.write_files:
        bus.add(files)
    ctx = TrackedContext(
        config=config,
        backends=backends,
        bus=bus,
        baseline=baseline,
        seed=seed,
        examples=examples,
        steps=options.steps or config.steps,
        shrink_examples=(
            config.shrink_examples if options.shrink_examples is None else options.shrink_examples
        ),
        scenario_max_examples=dict(caps),
        report_dir=report_dir,
        run_id=run_id,
        worker=options.worker,
        shard=options.shard,
        app=app_record(backends, config),
        backend_names=options.backends or [] if names == ["ports"] else backends.names,
        scenario_filter=options.scenarios,
        ticker=ticker,
        fail_fast=FailFast() if options.fail_fast else None,
    )
    started = time.perf_counter()
    ticker.start()
    try:
        bus.emit(
            RunStarted(
                run_id=run_id,
                reference=backends.reference,
                backends=columns,
                suites=names,
                seed=seed,
                examples=ctx.examples,
                engines=backends.info,
                versions=collect_versions(),
                machine=f"{platform.node()}:{options.worker}",
                started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                shard=options.shard.label,
            )
        )
        for _, suite in suites:
            suite(ctx)
        if options.regressions and names != ["ports"]:  # HTTP traces: no app to replay on
            regressions.run(ctx)
        exit_code = builder.report.verdict_exit_code()
        ticker.stop()
        bus.emit(RunFinished(exit_code, time.perf_counter() - started))
    finally:
        ticker.stop()
        backends.close()
    return RunOutcome(exit_code, builder.report, files.written)
