"""What a suite receives: the provisioned backends, settings of the run, the event bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.baseline import Baseline
from parity.config import ParityConfig
from parity.lockstep.session import LockstepSession
from parity.report.events import Event, EventBus
from parity.run.backends import Backends
from parity.run.shard import WHOLE, Shard


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

    def emit(self, event: Event) -> None:
        self.bus.emit(event)

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
