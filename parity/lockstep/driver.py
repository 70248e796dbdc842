"""One example's lockstep: targets + normalisers per backend, fan-out, compare, record.

The scenario writes each request in the *reference* backend's raw values. The driver
normalises it with the reference's mapping (``card_01H…`` → ``<id:3>``), then
denormalises it for every backend with that backend's mapping, sends all copies
concurrently, normalises every answer and compares each with the reference's. The step
(request, every answer, differences) is appended to the trace either way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from parity.diff.normalize import DiffOptions, NormalizedRequest, Normalizer
from parity.lockstep.divergence import BackendDown, Divergence
from parity.targets.base import Response, Target
from parity.trace.model import Step

#: the method of a step that records a check each backend was judged on by the scenario
#: (a free race against a model), not a request: it has no HTTP equivalent
JUDGED = "CHECK"
#: how long a closing example waits for its held requests (the app's pause timeout is 30 s)
SETTLE_TIMEOUT = 40.0


def _raw(resp: Response) -> dict[str, Any]:
    parsed = resp.json()
    return {
        "status": resp.status,
        "headers": dict(resp.headers),
        "body": parsed if parsed is not None else resp.text,
    }


@dataclass
class Timings:
    """Where a run's time goes: inside each backend's calls vs everything else."""

    backend_seconds: dict[str, float] = field(default_factory=dict)
    #: per step, the slowest backend's call (the step's unavoidable cost)
    critical_seconds: float = 0.0
    steps: int = 0

    def add(self, elapsed: Mapping[str, float]) -> None:
        self.steps += 1
        for name, seconds in elapsed.items():
            self.backend_seconds[name] = self.backend_seconds.get(name, 0.0) + seconds
        self.critical_seconds += max(elapsed.values(), default=0.0)


def _done(response: Response) -> Future[Response]:
    future: Future[Response] = Future()
    future.set_result(response)
    return future


class PendingCall:
    """A step sent but not yet compared: lets a scenario hold requests concurrently
    (pause points) and compare them when they finish."""

    def __init__(
        self,
        driver: LockstepDriver,
        request: NormalizedRequest,
        futures: dict[str, Future[Response]],
        step: Step,
    ) -> None:
        self._driver = driver
        self.request = request
        self.futures = futures
        self.step = step

    def done(self, backend: str) -> bool:
        """Has ``backend`` answered yet (a held request has not)?"""
        return self.futures[backend].done()

    def wait(self, timeout: float | None = 60) -> Response:
        responses = {name: fut.result(timeout) for name, fut in self.futures.items()}
        return self._driver._compare(self.request, responses, self.step)


class LockstepDriver:
    def __init__(
        self,
        targets: Mapping[str, Target],
        reference: str,
        executor: ThreadPoolExecutor,
        options: DiffOptions | None = None,
        raise_on_divergence: bool = True,
        store_alive: Callable[[str], bool] | None = None,
    ) -> None:
        if reference not in targets:
            raise ValueError(f"reference backend {reference!r} is not among {sorted(targets)}")
        self.targets = dict(targets)
        self.reference = reference
        self.options = options or DiffOptions()
        self.normalizers = {name: Normalizer(self.options) for name in self.targets}
        self.executor = executor
        self.raise_on_divergence = raise_on_divergence
        #: concurrent fan-out pays off only when some backend waits on I/O
        self.concurrent = any(getattr(t, "blocking_io", True) for t in self.targets.values())
        self._held = False
        #: the first backend found unavailable; the session stops the run on it
        self.down: BackendDown | None = None
        #: can backend ``name``'s store still open a namespace? Asked when it answers 503
        #: (None: never asked, every 503 is a store that is down)
        self.store_alive = store_alive
        self.steps: list[Step] = []
        #: every request sent and not yet known to be answered (see :meth:`settle`)
        self._inflight: list[Future[Response]] = []
        self.timings = Timings()
        #: time spent normalising and comparing (harness work, not backend work)
        self.compare_seconds = 0.0

    @property
    def backends(self) -> list[str]:
        return list(self.targets)

    # sending --------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        label: str = "",
    ) -> Response:
        """Send one request (in the reference's raw values) to every backend; compare;
        return the reference's answer. Raises :class:`Divergence` on any difference."""
        return self.start(method, path, headers, json, label).wait()

    def start(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        label: str = "",
    ) -> PendingCall:
        request = self.normalizers[self.reference].request(method, path, headers, json, label)
        return self.send(request)

    def send(self, request: NormalizedRequest) -> PendingCall:
        """Send an already-normalised request (what a replay does)."""
        ref_norm = self.normalizers[self.reference]
        # The step takes its place in the trace when it is *sent*, so a trace of
        # concurrent (held) requests keeps their sending order and replays it.
        step = Step(index=len(self.steps), request=request)
        self.steps.append(step)
        futures: dict[str, Future[Response]] = {}
        for name, target in self.targets.items():
            fallback = None if name == self.reference else ref_norm
            method, path, headers, body = self.normalizers[name].raw_request(request, fallback)
            if self.concurrent or self._held:
                futures[name] = self.executor.submit(target.request, method, path, headers, body)
            else:
                futures[name] = _done(target.request(method, path, headers, body))
        self._inflight = [f for f in self._inflight if not f.done()]
        self._inflight.extend(f for f in futures.values() if not f.done())
        return PendingCall(self, request, futures, step)

    def settle(self, release: Callable[[], None], timeout: float = SETTLE_TIMEOUT) -> bool:
        """Before the example's targets close: let every request still in flight finish.

        A failure inside a forced interleaving leaves held requests behind (parked at a
        pause point, or released and still committing). Closing a target under one
        strands the pool thread waiting for its answer forever, and the process then
        never exits after its verdict. ``release`` lets parked requests go; the app's own
        pause timeout bounds the rest. True when nothing is left in flight.
        """
        pending = [f for f in self._inflight if not f.done()]
        if not pending:
            return True
        release()
        _, not_done = wait(pending, timeout)
        self._inflight = list(not_done)
        return not not_done

    def judge(
        self, path: str, verdicts: Mapping[str, Any], about: Any = None, label: str = ""
    ) -> None:
        """Record a check each backend passed or failed on its own as a compared step.

        Some answers legitimately differ per backend (who wins a free race), so a scenario
        judges each backend against a model instead of against the reference. A failed
        judgement is still a bug *of that backend*: recorded as a step whose answers are
        the verdicts (``path`` and ``about`` in the reference's raw values, like a
        request), a backend whose verdict differs from the reference's is a divergence
        on that backend with the trace so far, never an error of the scenario on every
        backend. Raises :class:`Divergence` like :meth:`call`.
        """
        request = self.normalizers[self.reference].request(JUDGED, path, None, about, label)
        step = Step(index=len(self.steps), request=request)
        self.steps.append(step)
        headers = {"content-type": "application/json"}
        answers = {
            name: Response(200, headers, json.dumps(verdicts[name]).encode())
            for name in self.targets
        }
        self._compare(request, answers, step)

    def hold(self) -> None:
        """From now on send concurrently even to CPU-bound targets: a scenario that
        holds requests at pause points needs every call to run on its own thread."""
        self._held = True
        for target in self.targets.values():
            hold = getattr(target, "hold", None)
            if hold is not None:
                hold()

    # comparing ------------------------------------------------------------------------

    def _answered_503(self, name: str, responses: dict[str, Response]) -> bool:
        """Is ``name``'s 503 an answer to compare rather than a store that is down?

        Service Unavailable usually means the store is unreachable: infrastructure, the
        run ends (exit 2). But an app also answers 503 when its store *refuses* what a
        port sends (a MariaDB ``sql_mode`` rejecting a zero date, mapped to "store
        unavailable"): that is a migration bug, and only this backend shows it. So when
        the reference answered otherwise and the store still opens a fresh namespace,
        the 503 is compared like any answer."""
        if self.store_alive is None or responses[self.reference].status == 503:
            return False
        try:
            return self.store_alive(name)
        except Exception:
            return False

    def _compare(
        self, request: NormalizedRequest, responses: dict[str, Response], step: Step
    ) -> Response:
        started = time.perf_counter()
        for name, resp in responses.items():
            if resp.status == 503 and not self._answered_503(name, responses):
                self.down = BackendDown(name, resp.status, resp.text[:200])
                raise self.down
        normalized = {
            n: self.normalizers[n].response(r, request.path) for n, r in responses.items()
        }
        expected = normalized[self.reference]
        for name, resp in responses.items():
            step.responses[name] = {
                "normalized": normalized[name],
                "raw": _raw(resp),
                "elapsed_ms": round(resp.elapsed * 1000, 3),
            }
            if name != self.reference:
                step.compare(
                    self.reference, name, expected, normalized[name], self.options.ignore_paths
                )
        self.timings.add({n: r.elapsed for n, r in responses.items()})
        self.compare_seconds += time.perf_counter() - started
        if step.differences and self.raise_on_divergence:
            raise Divergence(step, self.reference)
        return responses[self.reference]
