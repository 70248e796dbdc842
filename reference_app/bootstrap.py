"""The composition root: the one place that picks adapters and wires them together.

``create_app(settings)`` is what ``python -m reference_app``, the tests and the parity
harness all call. Production gets the system clock, random ids and no pause points;
parity mode gets a manual clock, seeded ids, a controllable memory transport, pause
points and the ``/_parity`` control router.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI

from reference_app.adapters import crash as crash_seam
from reference_app.adapters.clock import ManualClock, SystemClock
from reference_app.adapters.ids import UlidGenerator
from reference_app.adapters.pause import PauseController
from reference_app.adapters.verifiers import create_tokens
from reference_app.backends.registry import create_backend
from reference_app.service_layer.backoff import RetryPolicy
from reference_app.service_layer.context import Policies, Services
from reference_app.service_layer.outbox_relay import OutboxRelay
from reference_app.service_layer.pagination import CursorCodec
from reference_app.service_layer.ports import Clock, IdGenerator, NoPause, PausePoints, Transport
from reference_app.service_layer.unit_of_work import Backend
from reference_app.settings import Settings
from reference_app.transports.controlled import ControlledTransport
from reference_app.transports.memory import MemoryTransport

log = logging.getLogger("reference_app")


@dataclass
class Container:
    """Everything one app instance runs on; ``app.state.container`` in the API."""

    settings: Settings
    backend: Backend
    transport: Transport
    clock: Clock
    services: Services
    relay: OutboxRelay
    pause: PausePoints
    #: parity mode's crash seam (``None`` in production: commits never crash)
    crash: crash_seam.CrashSeam | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start_background(self) -> None:
        """Run the relay on a timer when ``relay_interval_seconds`` > 0 (servers)."""
        interval = self.settings.relay_interval_seconds
        if interval <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._relay_loop, args=(interval,), daemon=True)
        self._thread.start()

    def _relay_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.relay.run_once()
            except Exception:  # keep relaying; the failure is logged, events stay pending
                log.exception("outbox relay run failed")

    def stop_background(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _transport(settings: Settings) -> Transport:
    if settings.transport == "memory":
        return MemoryTransport()
    from reference_app.transports.registry import create_transport

    return create_transport(settings)


def build_container(
    settings: Settings,
    *,
    backend: Backend | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    transport: Transport | None = None,
    pause: PausePoints | None = None,
    crash: crash_seam.CrashSeam | None = None,
) -> Container:
    parity = settings.parity_mode
    clock = clock or (ManualClock() if parity else SystemClock())
    ids = ids or UlidGenerator(
        seed=settings.id_seed if settings.id_seed is not None else (0 if parity else None)
    )
    pause = pause or (PauseController() if parity else NoPause())
    backend = backend or create_backend(settings)
    if parity:
        crash = crash or crash_seam.CrashSeam()
        backend.crash = crash
        if isinstance(clock, ManualClock):
            backend.app_time = clock.peek
    transport = transport or _transport(settings)
    if parity and not isinstance(transport, MemoryTransport | ControlledTransport):
        transport = ControlledTransport(transport)  # the harness steers failures
    services = Services(
        backend=backend,
        clock=clock,
        ids=ids,
        tokens=create_tokens(settings),
        pause=pause,
        cursors=CursorCodec(settings.secret),
        policies=Policies(
            idempotency_ttl=timedelta(seconds=settings.idempotency_ttl_seconds),
            idempotency_inflight_timeout=timedelta(
                seconds=settings.idempotency_inflight_timeout_seconds
            ),
            max_conflict_retries=settings.max_conflict_retries,
            event_source=settings.event_source,
            credit=settings.credit_policy(),
        ),
    )
    relay = OutboxRelay(
        backend,
        transport,
        clock,
        RetryPolicy(
            max_attempts=settings.outbox_max_attempts,
            base_delay_seconds=settings.outbox_base_delay_seconds,
            max_delay_seconds=settings.outbox_max_delay_seconds,
        ),
    )
    return Container(settings, backend, transport, clock, services, relay, pause, crash)


def create_app(settings: Settings | None = None, **wiring: object) -> FastAPI:
    """The ASGI app for ``settings`` (default: from the environment).

    ``wiring`` may override adapters (``backend=``, ``clock=``, ``ids=``, ``transport=``,
    ``pause=``): tests and the harness's planted faults use it.
    """
    from reference_app.api.app import build_fastapi

    settings = settings or Settings.from_env()
    container = build_container(settings, **wiring)  # type: ignore[arg-type]
    app = build_fastapi(container)
    if settings.parity_mode:
        app.state.parity_rebind = lambda fresh: rebind_app(app, fresh)
        crash_seam.install(app)
    return app


def rebind_app(app: FastAPI, settings: Settings) -> Container:
    """Re-point a parity-mode app at a fresh container for ``settings`` (a new namespace).

    Why: the parity harness needs a fresh, isolated app per Hypothesis example, and a
    FastAPI app's first request to each route costs ~3 ms of one-off set-up (an example
    touches a dozen routes on every backend). Keeping the app and swapping everything
    that holds state — storage, clock, ids, pause points, transport — gives the same
    isolation for the price of :func:`build_container`. Exposed to the harness as
    ``app.state.parity_rebind``; only while no request is in flight.
    """
    from reference_app.api.app import bind

    if not settings.parity_mode:
        raise ValueError("only parity-mode apps are rebound")
    container = build_container(settings)
    bind(app, container)
    return container


def restart_app(app: FastAPI) -> Container:
    """Restart a parity-mode app on the SAME store, as after a process death.

    Everything the process held is built again — the backend's handle (new database
    handle, no caches), services, relay — while what lives outside the process carries
    over: the store's data (the memory backend's dicts too, standing in for a database),
    the harness's clock, id sequence (a restarted app must not reissue ids), transport,
    pause points and crash seam (now alive again).
    """
    from reference_app.api.app import bind

    old: Container = app.state.container
    if not old.settings.parity_mode or old.crash is None:
        raise ValueError("only parity-mode apps are restarted")
    old.stop_background()
    fresh = build_container(
        old.settings,
        backend=old.backend.reopen(),
        clock=old.clock,
        ids=old.services.ids,
        transport=old.transport,
        pause=old.pause,
        crash=old.crash,
    )
    old.crash.restarted()
    bind(app, fresh)
    old.backend.close()
    fresh.start_background()
    return fresh
