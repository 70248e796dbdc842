"""The manual clock: exact whole-second advances, a seeded sub-second texture on reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_app.adapters.clock import DEFAULT_EPOCH, ManualClock


def test_a_clock_without_ticks_stands_still() -> None:
    clock = ManualClock()
    assert clock.now() == clock.now() == DEFAULT_EPOCH
    assert clock.advance(2.5) == DEFAULT_EPOCH + timedelta(seconds=2.5)


def test_ticks_creep_the_sub_second_part_up_to_but_not_past_999999() -> None:
    clock = ManualClock()
    clock.tick([0, 1, 999_990, 500_000])
    reads = [clock.now().microsecond for _ in range(5)]
    assert reads == [0, 1, 999_991, 999_999, 999_999]
    assert clock.now() < DEFAULT_EPOCH + timedelta(seconds=1)


@given(
    steps=st.lists(st.integers(0, 999_999), min_size=1, max_size=5),
    moves=st.lists(st.integers(0, 5), max_size=8),
)
def test_an_advance_of_n_seconds_is_never_less_than_n_seconds(
    steps: list[int], moves: list[int]
) -> None:
    clock = ManualClock()
    clock.tick(steps)
    last = clock.now()
    for seconds in moves:
        before = clock.now()
        clock.advance(seconds)
        after = clock.now()
        assert timedelta(seconds=seconds) <= after - before < timedelta(seconds=seconds + 1)
        assert after >= last
        last = after


def test_a_tick_is_under_a_second() -> None:
    with pytest.raises(ValueError, match="0 to 999999"):
        ManualClock().tick([1_000_000])


def test_ticks_stop_when_cleared() -> None:
    clock = ManualClock()
    clock.tick([7])
    first = clock.now()
    clock.tick([])
    assert clock.now() == clock.now() == first
