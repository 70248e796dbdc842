"""The base class of lockstep scenarios: a Hypothesis ``RuleBasedStateMachine`` whose
rules talk to every backend at once through :meth:`LockstepMachine.call`.

A scenario is unaware of how many backends there are. It sees the reference backend's
answers (for its own bookkeeping: bundles, a model) while the driver checks that every
other backend answered the same. Bind a machine to a session with :meth:`bind` (the
runner and the pytest plugin do it), which returns a subclass: classes stay reusable.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping
from functools import cache
from types import FrameType
from typing import Any, ClassVar

from hypothesis import reject
from hypothesis.control import current_build_context
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import INITIALIZE_RULE_MARKER, RULE_MARKER, RuleBasedStateMachine

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
    #: the paths through the app this scenario documents (``"takeover after abandonment"``);
    #: a rule marks one taken with :meth:`reached`, and the report's coverage table shows
    #: any path a backend never reached
    paths: ClassVar[tuple[str, ...]] = ()
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
        if session.shrink_spent() and not current_build_context().is_final:
            reject()  # unrun: Hypothesis ends with the shortest divergence it has
        self.lockstep: LockstepDriver = session.new_driver()
        self._rules_run: Counter[str] = Counter()
        self._paths_taken: Counter[str] = Counter()
        self._rule_frame: FrameType | None = None

    @classmethod
    def scenario_name(cls) -> str:
        return cls.scenario or cls.__name__

    @classmethod
    def bind(cls, session: LockstepSession) -> type[LockstepMachine]:
        """A subclass of this machine bound to ``session`` (Hypothesis instantiates it)."""
        return type(cls.__name__, (cls,), {"session": session, "__module__": cls.__module__})

    @classmethod
    def rule_names(cls) -> frozenset[str]:
        """Every rule and initialize rule of this machine (its own and inherited)."""
        return _rule_names(cls)

    # for scenarios ----------------------------------------------------------------------

    def reached(self, path: str) -> None:
        """Mark a documented path taken (like ``hypothesis.event``, but counted per
        backend in the report's coverage table). An undeclared name is a typo: it raises."""
        if self.paths and path not in self.paths:
            raise ValueError(
                f"{type(self).__name__}.reached({path!r}): not one of its paths "
                f"{list(self.paths)}; add it to `paths`"
            )
        self._paths_taken[path] += 1

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
        self._note_rule()
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
        self._note_rule()
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

    def _note_rule(self) -> None:
        """Count the rule Hypothesis is running, once per invocation however many calls
        it makes: the outermost frame on the stack that is a rule of this machine."""
        names = self.rule_names()
        frame: FrameType | None = sys._getframe(2)
        outermost: FrameType | None = None
        for _ in range(16):
            if frame is None:
                break
            if frame.f_code.co_name in names and frame.f_locals.get("self") is self:
                outermost = frame
            frame = frame.f_back
        if outermost is not None and outermost is not self._rule_frame:
            # holding the frame keeps its identity unique until the next rule runs
            self._rule_frame = outermost
            self._rules_run[outermost.f_code.co_name] += 1

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
        self._rule_frame = None
        self._session.coverage.declare(self.rule_names(), self.paths)
        self._session.coverage.add_example(
            self.lockstep.backends, self.lockstep.steps, self._rules_run, self._paths_taken
        )
        self._session.finish(self.lockstep, self.scenario_name(), final, error)


@cache
def _rule_names(cls: type) -> frozenset[str]:
    return frozenset(
        name
        for name in dir(cls)
        if hasattr(getattr(cls, name, None), RULE_MARKER)
        or hasattr(getattr(cls, name, None), INITIALIZE_RULE_MARKER)
    )
