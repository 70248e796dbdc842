"""The base class of port scenarios: rules call one Python interface, and every
implementation of it answers, in lockstep.

A port scenario is a lockstep scenario whose "backends" are implementations of one
interface (a dict cache and a Redis cache; a memory queue, SQS and EventBridge). Its
rules call ``self.port.<method>(...)``: the call goes to every implementation, what each
returned or raised is compared, and the scenario gets the reference implementation's
real return value (or its exception, raised again) for its own bookkeeping. Every call is
a trace step, so shrinking, replay, baselines and reports work as for HTTP scenarios.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from parity.diff.normalize import DiffOptions, NormalizedRequest
from parity.lockstep.machine import LockstepMachine
from parity.ports.codec import encode_arg
from parity.ports.implementation import Implementation, as_implementation
from parity.ports.target import PortResponse

#: how much of a call's arguments its trace label shows
LABEL_CHARS = 160


class PortMachine(LockstepMachine):
    """Subclass, set ``implementations``, write rules that call ``self.port``.

    - ``implementations`` — name → factory (``lambda: DictCache()``) or
      :class:`parity.Implementation` (a factory taking a store from an engine).
    - ``reference`` — the implementation the others are compared with (default: the
      first).
    - ``errors`` — exception class → a name; exceptions mapping to the same name are the
      same answer (``{KeyError: "not-found", CacheMiss: "not-found"}``). Unmapped ones
      are compared by class name. Map an error to ``"unavailable"`` to make it mean
      "this implementation's store is down" (the run stops with exit 2, no verdict).
    - ``port_name`` — the port's name in traces (default: the scenario's name).
    - ``diff`` — what counts as a difference (ids, ignored paths of ``returned``…;
      default: :class:`parity.DiffOptions` defaults).
    """

    suite: ClassVar[str] = "ports"
    implementations: ClassVar[Mapping[str, Implementation | Callable[..., Any]]] = {}
    reference: ClassVar[str] = ""
    errors: ClassVar[Mapping[type[BaseException], str]] = {}
    port_name: ClassVar[str] = ""
    diff: ClassVar[DiffOptions | None] = None

    @classmethod
    def interface_name(cls) -> str:
        return cls.port_name or cls.scenario_name()

    @classmethod
    def reference_name(cls) -> str:
        if cls.reference:
            return cls.reference
        if not cls.implementations:
            raise TypeError(f"{cls.__name__} lists no implementations")
        return next(iter(cls.implementations))

    @classmethod
    def implementation_map(cls) -> dict[str, Implementation]:
        return {name: as_implementation(v) for name, v in cls.implementations.items()}

    @classmethod
    def diff_options(cls) -> DiffOptions:
        return cls.diff or DiffOptions()

    @property
    def port(self) -> PortCalls:
        """Call a method of the port on every implementation: ``self.port.get("k")``."""
        return PortCalls(self)

    def call_port(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``self.port.<method>(*args, **kwargs)`` spelled out (for method names that are
        not identifiers or clash with Python)."""
        driver = self.lockstep
        payload: dict[str, Any] = {"args": encode_arg(list(args))}
        if kwargs:
            payload["kwargs"] = encode_arg(dict(kwargs))
        reference = driver.normalizers[driver.reference]
        request = NormalizedRequest(
            method=method,
            path=self.interface_name(),
            json=reference.value(payload),
            label=_label(self.interface_name(), method, args, kwargs),
        )
        answer = driver.send(request).wait()
        if isinstance(answer, PortResponse):
            if answer.error is not None:
                raise answer.error
            return answer.value
        return answer  # pragma: no cover - a port session only has port targets


class PortCalls:
    """``machine.port``: attribute access names the method to call everywhere."""

    def __init__(self, machine: PortMachine) -> None:
        self._machine = machine

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._machine.call_port(method, *args, **kwargs)

        call.__name__ = method
        return call


def _label(port: str, method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    text = f"{port}.{method}({', '.join(shown)})"
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"
