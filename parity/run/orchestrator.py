"""``parity run`` from options to exit code: 0 parity, 1 divergence, 2 infrastructure."""

from __future__ import annotations

import platform
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.baseline import BaselineError, load_baseline
from parity.config import ConfigError, ParityConfig
from parity.report.events import EventBus, Handler, RunFinished, RunStarted
from parity.report.model import ReportBuilder, RunReport
from parity.report.terminal import TerminalHandler
from parity.report.writers import FilesHandler
from parity.run import regressions
from parity.run.backends import InfraError, app_record, default_backends, provision
from parity.run.context import RunContext
from parity.suites.registry import SuiteNotInstalled, load_suite
from parity.trace.model import collect_versions

SUITE_CHOICES = ("scenarios", "contract", "all")


@dataclass
class RunOptions:
    backends: list[str] | None = None
    suite: str = "scenarios"
    examples: int | None = None
    steps: int | None = None
    seed: int | None = None
    report_dir: Path | None = None
    transport: str = "asgi"
    regressions: bool = True
    worker: str = "main"
    shard: tuple[int, int] = (0, 1)
    run_id: str | None = None
    write_files: bool = True
    handlers: list[Handler] = field(default_factory=list)
    terminal: bool = True
    #: run only these scenarios (names); None runs every registered one
    scenarios: list[str] | None = None


def suite_names(suite: str) -> list[str]:
    if suite not in SUITE_CHOICES:
        raise ConfigError(f"--suite must be one of {', '.join(SUITE_CHOICES)}, not {suite!r}")
    return ["scenarios", "contract"] if suite == "all" else [suite]


@dataclass
class RunOutcome:
    exit_code: int
    report: RunReport
    files: list[Path]


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
    seed = options.seed if options.seed is not None else random.randrange(2**31)
    backends_wanted = options.backends or list(config.backends) or default_backends()
    report_dir = options.report_dir or config.report_dir
    backends = provision(backends_wanted, config, seed, options.transport)
    run_id = options.run_id or uuid.uuid4().hex[:12]
    builder = ReportBuilder()
    bus = EventBus([builder, *options.handlers])
    if options.terminal:
        bus.add(TerminalHandler())
    files = FilesHandler(builder, report_dir)
    if options.write_files:
        bus.add(files)
    ctx = RunContext(
        config=config,
        backends=backends,
        bus=bus,
        baseline=baseline,
        seed=seed,
        examples=options.examples or config.examples,
        steps=options.steps or config.steps,
        report_dir=report_dir,
        run_id=run_id,
        worker=options.worker,
        shard=options.shard,
        app=app_record(backends, config),
        backend_names=backends.names,
        scenario_filter=options.scenarios,
    )
    started = time.perf_counter()
    try:
        bus.emit(
            RunStarted(
                run_id=run_id,
                reference=backends.reference,
                backends=backends.names,
                suites=names,
                seed=seed,
                examples=ctx.examples,
                engines=backends.info,
                versions=collect_versions(),
                machine=f"{platform.node()}:{options.worker}",
            )
        )
        for _, suite in suites:
            suite(ctx)
        if options.regressions:
            regressions.run(ctx)
        exit_code = builder.report.verdict_exit_code()
        bus.emit(RunFinished(exit_code, time.perf_counter() - started))
    finally:
        backends.close()
    return RunOutcome(exit_code, builder.report, files.written)
