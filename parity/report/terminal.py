"""Live progress in the terminal (rich), and a plain line log when quiet.

Quiet (no live display, no colour) when the ``CI`` environment variable is set or stdout
is not a TTY: CI logs want lines, not redraws. Quiet output is never wrapped — a long
line (a replay command, a side-by-side diff row) stays one line, so it can be pasted —
and progress is a plain line every ``PARITY_PROGRESS_SECONDS`` (default 15) seconds.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from parity.report.events import (
    ContractFailure,
    DivergenceFound,
    Event,
    Progress,
    RunFinished,
    RunStarted,
    ScenarioFinished,
    ScenarioStarted,
)
from parity.report.model import verdict_text
from parity.report.repro import call_line, enrich, value_text

STYLE = {
    "pass": "green",
    "fail": "bold red",
    "known": "yellow",
    "unsupported": "dim",
    "skipped": "dim",
    "error": "bold red",
    "reference": "cyan",
}
#: a console this wide never wraps or clips (rich wraps at 80 columns when not a TTY)
UNWRAPPED_WIDTH = 100_000


def is_quiet(stream: IO[str] | None = None) -> bool:
    stream = stream or sys.stdout
    return bool(os.environ.get("CI")) or not stream.isatty()


def plain_console(file: IO[str] | None = None) -> Console:
    """A console for logs and pipes: no colour, no wrapping, no clipping."""
    return Console(
        file=file,
        highlight=False,
        no_color=True,
        soft_wrap=True,
        width=UNWRAPPED_WIDTH,
        color_system=None,
    )


def progress_interval() -> float:
    try:
        return max(0.0, float(os.environ.get("PARITY_PROGRESS_SECONDS", "15")))
    except ValueError:
        return 15.0


def progress_text(event: Progress) -> str:
    eta = event.eta()
    left = f", ~{_duration(eta)} left" if eta is not None else ""
    return (
        f"{event.suite}/{event.scenario}: {min(event.done, event.total)}/{event.total} "
        f"examples ({_duration(event.seconds)}{left})"
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


class TerminalHandler:
    def __init__(self, console: Console | None = None, quiet: bool | None = None) -> None:
        self.quiet = is_quiet() if quiet is None else quiet
        if console is None:
            console = plain_console() if self.quiet else Console(highlight=False)
        self.console = console
        self._status: Any = None
        self._rows: list[tuple[str, dict[str, str], float]] = []
        self._backends: list[str] = []
        self._reference = ""
        self._divergences = 0
        self._contract = 0
        self._errors = 0
        self._fails = 0
        self._scenario = ""
        self._last_progress = 0.0
        self.interval = progress_interval()

    def handle(self, event: Event) -> None:
        c = self.console
        if isinstance(event, RunStarted):
            self._backends = event.backends
            self._reference = event.reference
            when = f" at {event.started_at}" if event.started_at else ""
            c.print(
                f"parity run {event.run_id}{when}: reference {event.reference}, backends "
                f"{', '.join(event.backends)}, suites {', '.join(event.suites)}, "
                f"{event.examples} examples, seed {event.seed}"
                + (f", shard {event.shard}" if event.shard else ""),
                markup=False,
            )
        elif isinstance(event, ScenarioStarted):
            self._scenario = f"{event.suite}/{event.scenario} on {', '.join(event.backends)}"
            self._last_progress = time.monotonic()
            if self.quiet:
                c.print(f"  {event.suite}/{event.scenario} ...", markup=False)
            else:
                self._stop_status()
                self._status = c.status(escape(self._scenario))
                self._status.start()
        elif isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, ScenarioFinished):
            self._stop_status()
            statuses = {b: cell.status for b, cell in event.cells.items()}
            self._errors += sum(1 for s in statuses.values() if s == "error")
            self._fails += sum(1 for s in statuses.values() if s == "fail")
            self._rows.append((f"{event.suite}/{event.scenario}", statuses, event.seconds))
            line = "  ".join(
                f"[{STYLE.get(self._label(b, s), '')}]{escape(b)}: {self._label(b, s)}[/]"
                for b, s in statuses.items()
            )
            c.print(
                f"  {escape(event.suite)}/{escape(event.scenario)}  {line}  "
                f"({event.seconds:.1f}s, {event.examples} examples, {event.steps} steps)"
            )
        elif isinstance(event, DivergenceFound):
            self._stop_status()
            self._divergence(event)
        elif isinstance(event, ContractFailure):
            self._contract += 1
            c.print(
                f"[bold red]contract[/] {escape(event.operation)} on {escape(event.backend)}: "
                f"{escape(event.check)}: {escape(event.message)}"
            )
        elif isinstance(event, RunFinished):
            self._stop_status()
            self._summary()
            if event.exit_code == 2:
                verdict = "[bold yellow]infrastructure error[/]"
            else:
                text = verdict_text(self._divergences, self._contract, self._errors, self._fails)
                colour = "green" if event.exit_code == 0 else "bold red"
                verdict = f"[{colour}]{text}[/]"
            c.print(f"{verdict} in {event.seconds:.1f}s (exit {event.exit_code})")

    def _label(self, backend: str, status: str) -> str:
        return "reference" if backend == self._reference and status == "pass" else status

    def _progress(self, event: Progress) -> None:
        text = progress_text(event)
        if not self.quiet:
            if self._status is not None:
                self._status.update(f"{escape(self._scenario)}: {escape(text.split(': ', 1)[1])}")
            return
        now = time.monotonic()
        if now - self._last_progress >= self.interval:
            self._last_progress = now
            self.console.print(f"  progress {text}", markup=False)

    def _divergence(self, event: DivergenceFound) -> None:
        c = self.console
        label = f"known ({event.known})" if event.known else "DIVERGENCE"
        c.print(
            f"[bold red]{escape(label)}[/] in {escape(event.scenario)}: "
            f"{escape(', '.join(event.backends))} at step {event.step} of {event.steps}"
        )
        if event.known:
            return
        self._divergences += 1
        div = enrich(
            {
                "trace": event.trace_path,
                "calls": event.calls,
                "differences": event.differences,
            }
        )
        calls = div.get("calls") or []
        if calls:
            c.print(f"  calls ({len(calls)}):", markup=False)
            for call in calls:
                line = escape(call_line(call, self._reference))
                c.print(f"    [bold red]{line}[/]" if call.get("diverged") else f"    {line}")
        changed = {
            f"    {d['path']}: {self._reference}={value_text(d['expected'])}  "
            f"{d['backend']}={value_text(d['actual'])}": d
            for d in div.get("differences") or []
        }
        for line in event.diff.splitlines():
            d = changed.get(line)
            if d is not None:  # the changed value: reference green, backend red
                c.print(
                    f"    {escape(d['path'])}: {escape(self._reference)}="
                    f"[green]{escape(value_text(d['expected']))}[/]  {escape(d['backend'])}="
                    f"[bold red]{escape(value_text(d['actual']))}[/]"
                )
            elif line.startswith("!"):
                c.print(f"[red]{escape(line)}[/]")
            else:
                c.print(line, markup=False)
        c.print(f"  replay: {event.replay}", markup=False)

    def _summary(self) -> None:
        if not self._rows:
            return
        table = Table(title="scenario x backend")
        table.add_column("scenario", no_wrap=True)
        for backend in self._backends:
            table.add_column(backend, no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        for name, statuses, seconds in self._rows:
            cells = []
            for b in self._backends:
                status = self._label(b, statuses[b]) if b in statuses else ""
                cells.append(f"[{STYLE.get(status, '')}]{status}[/]" if status else "")
            table.add_row(escape(name), *cells, f"{seconds:.1f}s")
        self.console.print(table)

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


class ProgressLines:
    """Only the periodic progress line (for callers that print their own results, such
    as ``parity selftest``): ``RunOptions(handlers=[ProgressLines()], terminal=False)``."""

    def __init__(self, console: Console | None = None, interval: float | None = None) -> None:
        self.console = console or plain_console()
        self.interval = progress_interval() if interval is None else interval
        self._last = time.monotonic()

    def handle(self, event: Event) -> None:
        if isinstance(event, ScenarioStarted):
            self._last = time.monotonic()
        elif isinstance(event, Progress):
            now = time.monotonic()
            if now - self._last >= self.interval:
                self._last = now
                self.console.print(f"  progress {progress_text(event)}", markup=False)
