"""What a suite receives: the provisioned backends, settings of the run, the event bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.baseline import Baseline
from parity.config import ParityConfig
from parity.lockstep.session import LockstepSession
from parity.report.events import CellResult, Event, EventBus, ScenarioFinished, ScenarioStarted
from parity.run.backends import Backends
from parity.run.shard import WHOLE, Shard


@dataclass
class FailFast:
    """``--fail-fast``: the first failing cell stops the run. One object shared by every
    copy of the context (the ports suite makes one per scenario), so a stop anywhere is
    seen everywhere."""

    #: "suite/scenario" of the first cell that failed (or errored); None while green
    stopped_at: str | None = None

    def watch(self, event: Event) -> None:
        if (
            self.stopped_at is None
            and isinstance(event, ScenarioFinished)
            and any(cell.status in ("fail", "error") for cell in event.cells.values())
        ):
            self.stopped_at = f"{event.suite}/{event.scenario}"

    def reason(self) -> str:
        return f"not run: --fail-fast stopped the run at {self.stopped_at}"


@dataclass
class RunContext:
    config: ParityConfig
    backends: Backends
    bus: EventBus
    baseline: Baseline
    seed: int
    examples: int
    steps: int
    report_dir: Path
    run_id: str
    worker: str = "main"
    #: the part of the run this process does (``--shard K/N``, ``-n`` workers)
    shard: Shard = WHOLE
    #: what traces record of the app binding and configuration
    app: dict[str, Any] = field(default_factory=dict)
    backend_names: list[str] = field(default_factory=list)
    scenario_filter: list[str] | None = None
    shrink_examples: int | None = None
    #: scenario name -> at most this many examples (``scenario_max_examples``)
    scenario_max_examples: dict[str, int] = field(default_factory=dict)
    #: ``--fail-fast``; None runs everything
    fail_fast: FailFast | None = None

    def emit(self, event: Event) -> None:
        self.bus.emit(event)
        if self.fail_fast is not None:
            self.fail_fast.watch(event)

    def skipped(self, suite: str, name: str, backends: list[str] | None = None) -> bool:
        """After ``--fail-fast`` stopped the run: report ``name`` as not run (a skipped
        cell per backend, so the report lists what was not checked) and return True."""
        if self.fail_fast is None or self.fail_fast.stopped_at is None:
            return False
        names = list(self.backends.names) if backends is None else backends
        self.emit(ScenarioStarted(suite, name, names))
        skipped = CellResult("skipped", self.fail_fast.reason())
        self.emit(ScenarioFinished(suite, name, dict.fromkeys(names, skipped), 0.0))
        return True

    @property
    def reference(self) -> str:
        return self.backends.reference

    def examples_for(self, scenario: str) -> int:
        """The examples ``scenario`` runs (all shards together): ``examples``, or its
        ``scenario_max_examples`` cap when lower."""
        return min(self.examples, self.scenario_max_examples.get(scenario, self.examples))

    def session(self, names: list[str], label: str) -> LockstepSession:
        """A lockstep session over ``names``; namespaces carry run, worker and label so
        parallel workers and successive sessions never share data."""
        return LockstepSession(
            {n: self.backends.factories[n] for n in names},
            self.reference,
            namespace_prefix=f"p{self.run_id[:6]}_{self.worker}_{label}",
            engines={n: self.backends.info[n] for n in names},
            app=self.app,
            options=self.config.diff,
            seed=self.seed,
            shrink_examples=self.shrink_examples,
        )

    def replay_command(self, trace_path: Path | str, backends: list[str]) -> str:
        return f"parity replay {trace_path} --backends {','.join(backends)}"
