"""Engines of a database server reached at one URL (PostgreSQL, MySQL/MariaDB).

What they share: the URL is the one store every example of an app that isolates itself
uses; for the other apps each example gets a *place* of its own on the server — a schema,
a database — named in the URL it hands out, created before the example and dropped
after it. Places still there when the engine stops are dropped too: a borrowed server
(``@url``) is left as it was found. Subclasses say how a place is named, made and dropped.
"""

from __future__ import annotations

import abc
import contextlib
import os
from typing import ClassVar

from parity.binding import Store
from parity.engines.base import Engine, EngineUnavailable
from parity.redact import redact_url


class ServerEngine(Engine):
    #: the store option naming an example's place ("schema", "database")
    place_kind: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.url: str | None = None
        #: places handed out and not yet dropped
        self._places: set[str] = set()

    def _require_url(self) -> str:
        if self.url is None:
            raise EngineUnavailable(self.name, "engine not started")
        return self.url

    def store(self, namespace: str = "") -> Store:
        return self._store(namespace, self._require_url())

    def isolated(self, namespace: str) -> Store:
        base = self._require_url()
        place = self.place_for(namespace)
        url = self._create_place(base, place)
        self._places.add(place)
        return self._store(namespace, url, base_url=base, **{self.place_kind: place})

    def discard(self, store: Store) -> None:
        place = store.option(self.place_kind)
        if place and self.url is not None:
            self._drop(self.url, [place])
            self._places.discard(place)

    def drop_leftover_places(self) -> None:
        """Drop what examples left (never raises: teardown must not hide a verdict)."""
        if self._places and self.url is not None:
            with contextlib.suppress(Exception):
                self._drop(self.url, sorted(self._places))
        self._places.clear()

    @abc.abstractmethod
    def place_for(self, namespace: str) -> str:
        """A safe, unquoted name for ``namespace``'s place."""

    @abc.abstractmethod
    def _create_place(self, base: str, place: str) -> str:
        """Create ``place`` on the server at ``base``; the URL that points into it."""

    @abc.abstractmethod
    def _drop(self, base: str, places: list[str]) -> None:
        """Drop ``places`` (and everything in them) on the server at ``base``."""


class BorrowedServerEngine(ServerEngine):
    """A server someone else runs, at ``$<url_env>`` (``postgres@url``, ``mysql@url``).
    Places it made for examples are dropped on ``stop()``: we borrow someone's server,
    so we leave it as we found it. Subclasses say how a URL is read and reached."""

    #: the environment variable holding the server's URL
    url_env: ClassVar[str]
    #: the server's name in messages ("PostgreSQL")
    product: ClassVar[str]

    def __init__(self, url: str | None = None) -> None:
        super().__init__()
        self._given = url

    def _target(self) -> str | None:
        return self._given or os.environ.get(self.url_env) or None

    def probe(self) -> str | None:
        url = self._target()
        if not url:
            return f"{self.url_env} is not set"
        try:
            self.reach(self.accept(url))
        except ValueError as exc:
            return f"{self.url_env} is not a {self.product} URL: {exc}"
        except Exception as exc:
            return f"{self.product} server at {redact_url(url)} unreachable: {self.why(exc)}"
        return None

    def start(self) -> None:
        super().start()  # probe
        target = self._target()
        assert target is not None
        self.url = self.accept(target)

    def stop(self) -> None:
        self.drop_leftover_places()
        self.url = None

    @abc.abstractmethod
    def accept(self, url: str) -> str:
        """``url`` in the form the engine hands out; ``ValueError`` if it is not one."""

    @abc.abstractmethod
    def reach(self, url: str) -> None:
        """Connect once (and note the server's version); raise when unreachable."""

    def why(self, exc: BaseException) -> str:
        """One line saying why the server could not be reached."""
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
