"""Live progress in the terminal (rich), and a plain line log when quiet.

Quiet (no live display) when the ``CI`` environment variable is set or stdout is not a
TTY: CI logs want lines, not redraws.
"""

from __future__ import annotations

import os
import sys
from typing import IO

from rich.console import Console
from rich.table import Table

from parity.report.events import (
    ContractFailure,
    DivergenceFound,
    Event,
    RunFinished,
    RunStarted,
    ScenarioFinished,
    ScenarioStarted,
)

STYLE = {
    "pass": "green",
    "fail": "bold red",
    "known": "yellow",
    "unsupported": "dim",
    "error": "bold red",
}


def is_quiet(stream: IO[str] | None = None) -> bool:
    stream = stream or sys.stdout
    return bool(os.environ.get("CI")) or not stream.isatty()


class TerminalHandler:
    def __init__(self, console: Console | None = None, quiet: bool | None = None) -> None:
        self.quiet = is_quiet() if quiet is None else quiet
        self.console = console or Console(highlight=False, no_color=self.quiet)
        self._status: object | None = None
        self._rows: list[tuple[str, dict[str, str], float]] = []
        self._backends: list[str] = []

    def handle(self, event: Event) -> None:
        c = self.console
        if isinstance(event, RunStarted):
            self._backends = event.backends
            c.print(
                f"parity run {event.run_id}: reference {event.reference}, backends "
                f"{', '.join(event.backends)}, suites {', '.join(event.suites)}, "
                f"{event.examples} examples, seed {event.seed}"
            )
        elif isinstance(event, ScenarioStarted):
            if self.quiet:
                c.print(f"  {event.suite}/{event.scenario} ...")
            else:
                self._stop_status()
                self._status = c.status(
                    f"{event.suite}/{event.scenario} on {', '.join(event.backends)}"
                )
                self._status.start()  # type: ignore[attr-defined]
        elif isinstance(event, ScenarioFinished):
            self._stop_status()
            statuses = {b: cell.status for b, cell in event.cells.items()}
            self._rows.append((f"{event.suite}/{event.scenario}", statuses, event.seconds))
            line = "  ".join(f"[{STYLE.get(s, '')}]{b}: {s}[/]" for b, s in statuses.items())
            c.print(
                f"  {event.suite}/{event.scenario}  {line}  ({event.seconds:.1f}s, "
                f"{event.examples} examples, {event.steps} steps)"
            )
        elif isinstance(event, DivergenceFound):
            self._stop_status()
            label = f"known ({event.known})" if event.known else "DIVERGENCE"
            c.print(
                f"[bold red]{label}[/] in {event.scenario}: {', '.join(event.backends)} "
                f"at step {event.step} of {event.steps}"
            )
            if not event.known:
                c.print(event.diff, markup=False, highlight=False)
                c.print(f"  replay: {event.replay}", markup=False)
        elif isinstance(event, ContractFailure):
            c.print(
                f"[bold red]contract[/] {event.operation} on {event.backend}: "
                f"{event.check}: {event.message}"
            )
        elif isinstance(event, RunFinished):
            self._stop_status()
            self._summary()
            verdict = {0: "[green]parity[/]", 1: "[bold red]divergence[/]"}.get(
                event.exit_code, "[bold yellow]infrastructure error[/]"
            )
            c.print(f"{verdict} in {event.seconds:.1f}s (exit {event.exit_code})")

    def _summary(self) -> None:
        if not self._rows:
            return
        table = Table(title="scenario x backend")
        table.add_column("scenario")
        for backend in self._backends:
            table.add_column(backend)
        table.add_column("time", justify="right")
        for name, statuses, seconds in self._rows:
            table.add_row(
                name,
                *[
                    f"[{STYLE.get(statuses.get(b, ''), '')}]{statuses.get(b, '')}[/]"
                    for b in self._backends
                ],
                f"{seconds:.1f}s",
            )
        self.console.print(table)

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()  # type: ignore[attr-defined]
            self._status = None
