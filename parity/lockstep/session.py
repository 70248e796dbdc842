"""A lockstep session: the provisioned backends every example of a run draws from.

Each example gets a fresh namespace on every backend (``<prefix>_<n>``: a key prefix or
schema, never new tables) and a fresh app, so examples never see each other's data and a
shrunk example replays exactly.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from parity.diff.normalize import DiffOptions
from parity.lockstep.coverage import Coverage
from parity.lockstep.divergence import BackendDown
from parity.lockstep.driver import LockstepDriver
from parity.lockstep.interleave import release_armed
from parity.reaper import watch
from parity.targets.base import Target
from parity.targets.factory import TargetFactory
from parity.trace.model import Trace


@dataclass
class ExampleRecord:
    """The last example Hypothesis ran as "final" (the shrunk failure) and its error."""

    trace: Trace
    error: BaseException | None


@dataclass
class SessionStats:
    examples: int = 0
    steps: int = 0
    setup_seconds: float = 0.0  # building apps/targets per example (isolation cost)
    teardown_seconds: float = 0.0
    backend_seconds: dict[str, float] = field(default_factory=dict)
    critical_seconds: float = 0.0
    compare_seconds: float = 0.0


class LockstepSession:
    def __init__(
        self,
        factories: Mapping[str, TargetFactory],
        reference: str,
        *,
        options: DiffOptions | None = None,
        namespace_prefix: str = "p",
        engines: Mapping[str, dict[str, Any]] | None = None,
        app: Mapping[str, Any] | None = None,
        seed: int | None = None,
        max_workers: int = 32,
        shrink_examples: int | None = None,
    ) -> None:
        if reference not in factories:
            raise ValueError(f"reference {reference!r} is not among backends {sorted(factories)}")
        # The engines behind ``factories`` die with this process, however it ends.
        watch()
        self.factories = dict(factories)
        self.reference = reference
        self.options = options or DiffOptions()
        self.namespace_prefix = re.sub(r"[^a-z0-9_]", "_", namespace_prefix.lower())
        self.engines = dict(engines or {})
        #: what traces record of the app and configuration (see Trace.app)
        self.app = dict(app or {})
        self.seed = seed
        # Big enough for every backend times several held (paused) requests.
        self.executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="parity")
        #: set when a backend's store is down (a 503 and no namespace opens, or no
        #: namespace opens at all): the run is over (exit 2)
        self.down: BackendDown | None = None
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.stats = SessionStats()
        #: rules, documented paths and endpoint statuses every example reached
        self.coverage = Coverage()
        self.final: ExampleRecord | None = None
        #: the shortest example that diverged, whatever Hypothesis makes of it later: when
        #: a failure cannot be replayed (a race lost once, a timeout under load) Hypothesis
        #: ends with ``Flaky`` instead of a shrunk final run, and this is the divergence
        self.diverged: Trace | None = None
        #: how many examples Hypothesis may run after the first divergence (shrinking it)
        #: before every further one is rejected unrun, so that Hypothesis ends with the
        #: shortest it has; :func:`parity.trace.minimize.minimize` then leaves out the
        #: calls it does not need. Why: shrinking is most of a failing run (a planted TTL
        #: bug: found in 9 examples, shrunk in 354, 81 s; with 30 it took 13 s and ended
        #: at the same 5 calls). ``None``: until Hypothesis is done.
        self.shrink_examples = shrink_examples
        #: ``stats.examples`` when the first divergence was found (None: none yet)
        self.first_divergence: int | None = None

    @property
    def backends(self) -> list[str]:
        return list(self.factories)

    def namespace(self) -> str:
        with self._lock:
            return f"{self.namespace_prefix}_{next(self._counter)}"

    def new_driver(self) -> LockstepDriver:
        if self.down is not None:
            # Once a store is gone, fail every later example at once (before creating
            # targets) so Hypothesis's replays and shrinking do not wait on a dead server.
            raise self.down
        started = time.perf_counter()
        namespace = self.namespace()
        # One after another: building apps concurrently trips CPython 3.11's "AST
        # constructor recursion depth mismatch" (gh-106905) in pydantic/FastAPI code
        # generation, and an in-process target costs well under a millisecond anyway.
        targets: dict[str, Target] = {}
        error: BaseException | None = None
        for name, factory in self.factories.items():
            try:
                targets[name] = factory.new_target(namespace)
            except Exception as exc:  # a store that cannot even open a namespace is down
                error = error or BackendDown(name, 0, f"{type(exc).__name__}: {exc}")
            except BaseException as exc:  # keep the first, release the rest
                error = error or exc
        if error is not None:
            for name, target in targets.items():
                self.factories[name].release(target)
            if isinstance(error, BackendDown):
                self.down = error
            raise error
        driver = LockstepDriver(
            targets, self.reference, self.executor, self.options, store_alive=self._store_alive
        )
        self.stats.setup_seconds += time.perf_counter() - started
        return driver

    def _store_alive(self, name: str) -> bool:
        """Does backend ``name``'s store still open (and drop) a fresh namespace?"""
        factory = self.factories[name]
        try:
            target = factory.new_target(self.namespace())
        except Exception:
            return False
        factory.release(target)
        return True

    def finish(
        self, driver: LockstepDriver, scenario: str, final: bool, error: BaseException | None
    ) -> None:
        """Release the example's targets; keep the trace of Hypothesis's final run."""
        started = time.perf_counter()
        self.down = self.down or driver.down
        # A failure inside a held interleaving leaves requests in flight: closing their
        # targets now would strand a pool thread forever (and the process after its
        # verdict), so they are released and waited for first.
        driver.settle(lambda: release_armed(driver))
        for name, target in driver.targets.items():
            self.factories[name].release(target)
        stats = self.stats
        stats.examples += 1
        stats.steps += driver.timings.steps
        stats.critical_seconds += driver.timings.critical_seconds
        stats.compare_seconds += driver.compare_seconds
        for name, seconds in driver.timings.backend_seconds.items():
            stats.backend_seconds[name] = stats.backend_seconds.get(name, 0.0) + seconds
        if final:
            self.final = ExampleRecord(self.trace_of(driver, scenario), error)
        if any(step.differences for step in driver.steps):
            if self.first_divergence is None:
                self.first_divergence = stats.examples
            shortest = self.diverged
            if shortest is None or len(driver.steps) < len(shortest.steps):
                self.diverged = self.trace_of(driver, scenario)
        stats.teardown_seconds += time.perf_counter() - started

    def shrink_spent(self) -> bool:
        """Has shrinking used up :attr:`shrink_examples`?"""
        return (
            self.shrink_examples is not None
            and self.first_divergence is not None
            and self.stats.examples - self.first_divergence >= self.shrink_examples
        )

    def trace_of(self, driver: LockstepDriver, scenario: str) -> Trace:
        return Trace(
            scenario=scenario,
            reference=self.reference,
            backends=self.backends,
            seed=self.seed,
            store_seed=self.seed,
            app=dict(self.app),
            engines={n: dict(self.engines.get(n, {})) for n in self.backends},
            steps=list(driver.steps),
        )

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        for factory in self.factories.values():
            factory.close()
