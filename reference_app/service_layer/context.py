"""Everything a service function needs, wired once by :mod:`reference_app.bootstrap`."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from reference_app.domain.rules import CreditPolicy
from reference_app.service_layer.pagination import CursorCodec
from reference_app.service_layer.ports import Clock, IdGenerator, PausePoints, TokenIssuer
from reference_app.service_layer.unit_of_work import Backend

#: The harness's tag for the current request (``X-Parity-Tag``), so a pause point can
#: hold exactly the request it was armed for. Set only in parity mode.
request_tag: ContextVar[str | None] = ContextVar("request_tag", default=None)


@dataclass(frozen=True)
class Policies:
    idempotency_ttl: timedelta = timedelta(hours=24)
    idempotency_inflight_timeout: timedelta = timedelta(seconds=60)
    max_conflict_retries: int = 5
    event_source: str = "urn:reference-app:ledger"
    credit: CreditPolicy = field(default_factory=CreditPolicy)


@dataclass(frozen=True)
class Services:
    backend: Backend
    clock: Clock
    ids: IdGenerator
    tokens: TokenIssuer
    pause: PausePoints
    cursors: CursorCodec
    policies: Policies = field(default_factory=Policies)

    def before_commit(self, operation: str) -> None:
        """The pause point: the harness may hold this request here."""
        self.pause.reach(f"before_commit:{operation}", request_tag.get())

    def before_claim(self) -> None:
        """The pause point between finding no usable record for an Idempotency-Key and
        writing this request's claim: where two first requests with one key race."""
        self.pause.reach("before_claim", request_tag.get())
