"""The base class of lockstep scenarios: a Hypothesis ``RuleBasedStateMachine`` whose
rules talk to every backend at once through :meth:`LockstepMachine.call`.

A scenario is unaware of how many backends there are. It sees the reference backend's
answers (for its own bookkeeping: bundles, a model) while the driver checks that every
other backend answered the same. Bind a machine to a session with :meth:`bind` (the
runner and the pytest plugin do it), which returns a subclass: classes stay reusable.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, ClassVar

from hypothesis.control import current_build_context
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine

from parity.lockstep.driver import LockstepDriver, PendingCall
from parity.lockstep.session import LockstepSession
from parity.targets.base import Response


class LockstepMachine(RuleBasedStateMachine):
    #: the name the report uses; defaults to the class name
    scenario: ClassVar[str] = ""
    #: engine capabilities this scenario needs (e.g. "transactions", "ttl"); an engine that
    #: lists one in ``engine.unsupported`` is reported "unsupported" for this scenario
    requires: ClassVar[frozenset[str]] = frozenset()
    #: control seams of the app this scenario drives (``"clock"``, ``"ids"``,
    #: ``"pause"``); unsupported when the app binding does not offer them all
    controls: ClassVar[frozenset[str]] = frozenset()
    session: ClassVar[LockstepSession | None] = None

    def __init__(self) -> None:
        super().__init__()
        session = type(self).session
        if session is None:
            raise RuntimeError(
                f"{type(self).__name__} is not bound to a lockstep session: run it with "
                "`parity run`, the `parity_session` pytest fixture, or Machine.bind(session)"
            )
        self._session = session
        self.lockstep: LockstepDriver = session.new_driver()

    @classmethod
    def scenario_name(cls) -> str:
        return cls.scenario or cls.__name__

    @classmethod
    def bind(cls, session: LockstepSession) -> type[LockstepMachine]:
        """A subclass of this machine bound to ``session`` (Hypothesis instantiates it)."""
        return type(cls.__name__, (cls,), {"session": session, "__module__": cls.__module__})

    # for scenarios ----------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        label: str = "",
    ) -> Response:
        """Send to every backend, compare, return the reference's answer."""
        return self.lockstep.call(method, path, self._headers(token, headers), json, label)

    def start(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        label: str = "",
    ) -> PendingCall:
        """Send without waiting (for forced interleavings); ``.wait()`` compares."""
        self.lockstep.hold()
        return self.lockstep.start(method, path, self._headers(token, headers), json, label)

    def paginate(self, path: str, *, token: str | None = None, max_pages: int = 50) -> list[Any]:
        """Follow ``next_cursor`` to the end on every backend (each page compared)."""
        items: list[Any] = []
        cursor: str | None = None
        for _ in range(max_pages):
            sep = "&" if "?" in path else "?"
            page = self.call("GET", f"{path}{sep}cursor={cursor}" if cursor else path, token=token)
            body = page.json()
            if page.status != 200 or not isinstance(body, dict):
                break
            items.extend(body.get("items") or [])
            cursor = body.get("next_cursor")
            if not cursor:
                break
        return items

    @staticmethod
    def _headers(token: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if token is not None:
            out["authorization"] = f"Bearer {token}"
        return out

    def teardown(self) -> None:
        try:
            final = current_build_context().is_final
        except InvalidArgument:  # run outside Hypothesis (a direct instantiation)
            final = False
        error = sys.exc_info()[1]
        self._session.finish(self.lockstep, self.scenario_name(), final, error)
