"""Run one scenario (healthy backends or a planted fault) with small example counts.

Uses the harness's own pieces (provision, LockstepSession, hypothesis_run), so a green
test here means the scenario really runs in lockstep the way ``parity run`` runs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from parity.config import load_config
from parity.lockstep.machine import LockstepMachine
from parity.lockstep.session import LockstepSession
from parity.run.backends import Backends, provision
from parity.run.scenario import hypothesis_run
from parity.trace.model import Trace

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    error: BaseException | None
    trace: Trace | None
    examples: int
    #: what the run exercised (``Coverage.to_dict``: rules, paths, endpoints per backend)
    coverage: dict[str, Any] = field(default_factory=dict)


class Runner:
    """Provisioned backends plus a helper to run one machine on them."""

    def __init__(self, names: list[str]) -> None:
        self.config = load_config(start=ROOT)
        self.backends: Backends = provision(names, self.config, 0)

    def run(
        self,
        machine: type[LockstepMachine],
        examples: int,
        steps: int = 20,
        seed: int = 0,
        label: str = "t",
    ) -> Outcome:
        session = LockstepSession(
            self.backends.factories,
            self.backends.reference,
            namespace_prefix=label,
            engines=self.backends.info,
            seed=seed,
        )
        try:
            error = hypothesis_run(machine.bind(session), examples, steps, seed)
        finally:
            session.close()
        final = session.final.trace if session.final else None
        return Outcome(error, final, session.stats.examples, session.coverage.to_dict())

    def close(self) -> None:
        self.backends.close()


@pytest.fixture(scope="session")
def healthy() -> Iterator[Runner]:
    runner = Runner(["memory", "sqlite"])
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def runner_for() -> Iterator[object]:
    made: dict[str, Runner] = {}

    def get(fault: str) -> Runner:
        if fault not in made:
            made[fault] = Runner(["memory", f"fault:{fault}"])
        return made[fault]

    yield get
    for runner in made.values():
        runner.close()
