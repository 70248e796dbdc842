"""The run's event stream. Suites emit events; every output format is a handler.

Schemathesis-style: one stream, many consumers (the report builder, the live terminal,
anything a user plugs in). Events are plain dataclasses so a handler needs no framework.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    reference: str
    backends: list[str]
    suites: list[str]
    seed: int | None
    examples: int
    engines: dict[str, dict[str, Any]]
    versions: dict[str, str]
    machine: str
    #: when the run started, ISO 8601 UTC (``2026-01-31T12:00:00Z``)
    started_at: str = ""
    #: ``K/N`` when this run is one machine's part of a sharded run, else empty
    shard: str = ""


@dataclass(frozen=True)
class ScenarioStarted:
    suite: str
    scenario: str
    backends: list[str]


@dataclass(frozen=True)
class CellResult:
    """One scenario on one backend. ``status``: pass | fail | known | unsupported | error |
    skipped (not run: ``--fail-fast`` stopped the run before it)."""

    status: str
    reason: str = ""
    examples: int = 0
    steps: int = 0
    seconds: float = 0.0  # time spent inside this backend's calls
    divergence: str | None = None  # id of the divergence that failed this cell

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "examples": self.examples,
            "steps": self.steps,
            "seconds": round(self.seconds, 4),
            "divergence": self.divergence,
        }


@dataclass(frozen=True)
class ScenarioFinished:
    suite: str
    scenario: str
    cells: dict[str, CellResult]
    seconds: float
    examples: int = 0
    steps: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DivergenceFound:
    id: str
    suite: str
    scenario: str
    backends: list[str]
    step: int
    steps: int  # length of the (shrunk) trace
    request: str
    diff: str
    trace_path: str | None
    replay: str
    known: str | None = None  # baseline entry id when accepted
    expired: str | None = None  # baseline entry id when its acceptance expired
    paths: dict[str, list[str]] = field(default_factory=dict)
    #: the calls up to the diverging step and the structured differences (see
    #: :mod:`parity.report.repro`); read from ``trace_path`` when not given
    calls: list[dict[str, Any]] | None = None
    differences: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class ContractFailure:
    """A schemathesis check failed on one backend (emitted by the contract suite)."""

    operation: str
    backend: str
    check: str
    message: str
    curl: str = ""
    replay: str = ""
    #: the saved shrunk trace of the failing case (``parity replay`` it), if any
    trace: str | None = None


@dataclass(frozen=True)
class Progress:
    """Examples done so far in the running scenario (emitted periodically)."""

    suite: str
    scenario: str
    done: int
    total: int
    seconds: float  # since the scenario started

    def eta(self) -> float | None:
        """Seconds left at the pace so far (``None`` before the first example)."""
        if self.done <= 0 or self.done >= self.total:
            return None
        return self.seconds / self.done * (self.total - self.done)


@dataclass(frozen=True)
class RunFinished:
    exit_code: int
    seconds: float


@dataclass(frozen=True)
class EnginesStarted:
    """Engines a suite started after ``RunStarted`` (a ports run's implementations'):
    their facts and capability rows join the report's ``engines``."""

    engines: dict[str, dict[str, Any]]


Event = (
    RunStarted
    | EnginesStarted
    | ScenarioStarted
    | ScenarioFinished
    | DivergenceFound
    | ContractFailure
    | Progress
    | RunFinished
)


class Handler(Protocol):
    def handle(self, event: Event) -> None: ...


class EventBus:
    """Fan an event out to every handler, in registration order."""

    def __init__(self, handlers: list[Handler] | None = None) -> None:
        self.handlers: list[Handler] = list(handlers or [])

    def add(self, handler: Handler) -> None:
        self.handlers.append(handler)

    def emit(self, event: Event) -> None:
        for handler in self.handlers:
            handler.handle(event)


class CallbackHandler:
    """Adapt a plain function to a handler (handy in tests and plugins)."""

    def __init__(self, func: Callable[[Event], None]) -> None:
        self.func = func

    def handle(self, event: Event) -> None:
        self.func(event)
