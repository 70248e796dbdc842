"""``POST /_parity/clock/tick``: the manual clock's sub-second texture, over HTTP.

Scenarios drive every backend through the same route, so it must give stored times real
microseconds (``.999999`` included) and refuse a step the clock cannot take as a 422,
never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import Ledger, make_ledger


@pytest.fixture
def memory_ledger() -> Iterator[Ledger]:
    yield from make_ledger("memory")


def test_ticks_give_stored_times_microseconds_and_stop_below_the_next_second(
    memory_ledger: Ledger,
) -> None:
    client = memory_ledger.client
    tick = client.post("/_parity/clock/tick", json={"microseconds": [250_000, 0]})
    assert tick.status_code == 200 and tick.json()["now"].endswith(".000000Z"), tick.text
    first = memory_ledger.sign_up()["created_at"]
    assert first.endswith(".250000Z"), first
    nows = [client.get("/_parity/clock").json()["now"] for _ in range(8)]
    assert nows[-1].endswith(".999999Z"), nows  # creeps up to, never past, the second
    assert nows == sorted(nows)
    advanced = client.post("/_parity/clock/advance", json={"seconds": 1}).json()["now"]
    assert advanced[:19] > first[:19]


def test_an_empty_tick_stops_the_creep(memory_ledger: Ledger) -> None:
    client = memory_ledger.client
    assert client.post("/_parity/clock/tick", json={"microseconds": [7]}).status_code == 200
    assert client.post("/_parity/clock/tick", json={"microseconds": []}).status_code == 200
    reads = {client.get("/_parity/clock").json()["now"] for _ in range(3)}
    assert len(reads) == 1, reads


@pytest.mark.parametrize("steps", [[-1], [1_000_000], [0] * 65, "fast"])
def test_a_step_the_clock_cannot_take_is_a_422(memory_ledger: Ledger, steps: object) -> None:
    resp = memory_ledger.client.post("/_parity/clock/tick", json={"microseconds": steps})
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
