"""Port lockstep from the inside: calls fan out, answers and errors compare by the
scenario's mapping, async and sync implementations meet, engines hand out stores."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import strategies as st

from parity import Implementation, PortMachine, Store, check_port, rule
from parity.lockstep.divergence import Divergence
from parity.lockstep.session import LockstepSession
from parity.ports.codec import PortCodecError, decode_arg, encode_arg, encode_result
from parity.ports.factory import EnginePool
from parity.ports.suite import implementations_of, port_backends
from parity.suites.registry import register_scenario


class Colour(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class Item:
    name: str
    price: Decimal
    at: datetime
    tags: tuple[str, ...]
    colour: Colour


def test_arguments_round_trip_exactly() -> None:
    item = Item("pen", Decimal("1.10"), datetime(2026, 1, 1, tzinfo=UTC), ("a", "b"), Colour.RED)
    value = [item, {1: b"\x00"}, {"s"}, timedelta(seconds=3), UUID(int=5), None]
    assert decode_arg(encode_arg(value)) == value
    assert decode_arg(encode_arg(value))[0] is not item  # a copy per implementation


def test_results_are_plain_json_with_the_type_name() -> None:
    item = Item("pen", Decimal("1.10"), datetime(2026, 1, 1, tzinfo=UTC), ("a",), Colour.RED)
    assert encode_result(item) == {
        "__type__": "Item",
        "name": "pen",
        "price": "1.10",
        "at": "2026-01-01T00:00:00+00:00",
        "tags": ["a"],
        "colour": "red",
    }


def test_an_object_that_is_not_data_is_no_argument() -> None:
    with pytest.raises(PortCodecError, match="cannot go into a trace"):
        encode_arg(object())


class NotFound(Exception):
    pass


class Counter:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def bump(self, key: str) -> int:
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]

    def take(self, key: str) -> int:
        return self.counts.pop(key)  # KeyError


class AsyncCounter(Counter):
    async def bump(self, key: str) -> int:  # type: ignore[override]
        return super().bump(key)

    async def take(self, key: str) -> int:  # type: ignore[override]
        if key not in self.counts:
            raise NotFound(key)
        return self.counts.pop(key)


class OffByOne(Counter):
    def bump(self, key: str) -> int:
        return super().bump(key) + (1 if len(self.counts) > 1 else 0)


class Counters(PortMachine):
    implementations = {"dict": Counter, "async": AsyncCounter}
    errors = {KeyError: "missing", NotFound: "missing"}

    @rule(key=st.sampled_from("ab"))
    def bump(self, key: str) -> None:
        self.port.bump(key)


@pytest.fixture
def pool() -> Iterator[EnginePool]:
    engines = EnginePool()
    yield engines
    engines.close()


def machine_on(cls: type[PortMachine], pool: EnginePool, **impls: Any) -> Any:
    chosen = implementations_of(cls, None)
    chosen.update({n: Implementation(f) if callable(f) else f for n, f in impls.items()})
    backends = port_backends(cls, chosen, pool)
    session = LockstepSession(backends.factories, backends.reference, options=cls.diff_options())
    return cls.bind(session)(), session


def test_same_answers_and_mapped_errors_agree(pool: EnginePool) -> None:
    machine, session = machine_on(Counters, pool)
    try:
        assert machine.port.bump("a") == 1  # the reference's value, async one awaited
        assert machine.port.bump("a") == 2
        with pytest.raises(KeyError):  # both "missing": the reference's own error
            machine.port.take("b")
        assert [s.request.method for s in machine.lockstep.steps] == ["bump", "bump", "take"]
        assert not any(s.differences for s in machine.lockstep.steps)
        step = machine.lockstep.steps[2]
        assert step.responses["async"]["raw"]["headers"]["x-parity-exception"] == "NotFound: b"
    finally:
        machine.teardown()
        session.close()


def test_a_different_answer_is_a_divergence_with_a_trace_step(pool: EnginePool) -> None:
    machine, session = machine_on(Counters, pool, wrong=OffByOne)
    try:
        machine.port.bump("a")
        with pytest.raises(Divergence, match=r"wrong differ from dict") as caught:
            machine.port.bump("b")
        step = caught.value.step
        assert [d.path for d in step.differences["wrong"]] == ["body.returned"]
        assert step.request.json == {"args": ["b"]} and step.request.path == "Counters"
    finally:
        machine.teardown()
        session.close()


class Files(PortMachine):
    """Implementations on an engine: each example gets a store of its own."""

    implementations = {
        "memory": lambda: FileBox(None),
        "sqlite": Implementation(lambda store: FileBox(store), engine="sqlite"),
    }

    @rule()
    def fresh(self) -> None:
        self.port.path_is_fresh()


class FileBox:
    released: list[Store] = []

    def __init__(self, store: Store | None) -> None:
        self.store = store

    def path_is_fresh(self) -> bool:
        if self.store is None:
            return True
        assert self.store.url is not None
        return not Path(self.store.url.removeprefix("sqlite:///")).exists()

    def close(self) -> None:
        if self.store is not None:
            FileBox.released.append(self.store)


def test_an_engine_gives_every_example_its_own_store(pool: EnginePool) -> None:
    first, session = machine_on(Files, pool)
    try:
        for machine in (first, type(first)()):  # two examples of one session
            try:
                assert machine.port.path_is_fresh() is True
            finally:
                machine.teardown()
    finally:
        session.close()
    a, b = FileBox.released[-2:]
    assert a.engine == b.engine == "sqlite" and a.url != b.url  # two places, released


def test_port_machines_register_for_the_ports_suite_only() -> None:
    from parity.suites.registry import _SCENARIOS

    class Registered(Counters):
        scenario = "registered-port-test"

    register_scenario(Registered)
    assert "registered-port-test" in _SCENARIOS["ports"]
    assert "registered-port-test" not in _SCENARIOS.get("scenarios", {})
    del _SCENARIOS["ports"]["registered-port-test"]


def test_backends_pick_implementations_by_name_keeping_the_reference() -> None:
    assert list(implementations_of(Files, ["sqlite"])) == ["memory", "sqlite"]
    assert list(implementations_of(Counters, ["async"])) == ["dict", "async"]
    assert list(implementations_of(Counters, None)) == ["dict", "async"]


class CountersWithABug(Counters):
    implementations = {**Counters.implementations, "wrong": OffByOne}


def test_check_port_runs_a_scenario_inside_a_test() -> None:
    check_port(Counters, examples=10, steps=5)
    with pytest.raises(Divergence, match="wrong differ from dict"):
        check_port(CountersWithABug, examples=30, steps=10)
    check_port(CountersWithABug, implementations=["async"], examples=10, steps=5)
