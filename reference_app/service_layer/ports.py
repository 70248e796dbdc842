"""The service layer's other ports: time, ids, event transport, pause points, auth.

Each is injected by :mod:`reference_app.bootstrap`; the parity harness injects
deterministic ones (a manual clock, a seeded id generator) so that the same calls give
the same answers on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from reference_app.domain.model import Role


class Clock(Protocol):
    def now(self) -> datetime:
        """The current UTC time (timezone-aware)."""
        ...


class IdGenerator(Protocol):
    def new_id(self, prefix: str, now: datetime) -> str:
        """A unique id ``{prefix}_{26 chars}`` that sorts by creation (time, counter)."""
        ...


class PublishError(Exception):
    """The transport did not accept the event; the relay will retry it."""


class Transport(Protocol):
    name: str

    def publish(self, envelope: dict[str, Any]) -> None:
        """Deliver one CloudEvents envelope or raise :class:`PublishError`."""
        ...


class PausePoints(Protocol):
    def reach(self, point: str, tag: str | None) -> None:
        """Called just before a commit. The harness may block here to force an exact
        interleaving of concurrent requests; production code never blocks."""
        ...


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (by id) or the admin."""

    subject: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class TokenIssuer(Protocol):
    def issue(self, user_id: str, now: datetime) -> str: ...

    def verify(self, token: str, now: datetime) -> Principal:
        """The principal of a valid token; raises ``errors.Unauthenticated`` otherwise."""
        ...


class NoPause:
    """Pause points that never pause: the production wiring."""

    def reach(self, point: str, tag: str | None) -> None:
        return None
