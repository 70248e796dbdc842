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


def test_an_advance_with_a_sub_second_part_restarts_the_creep_in_the_new_second() -> None:
    clock = ManualClock()
    clock.tick([999_999, 3])
    assert clock.now().microsecond == 999_999  # the first second's creep is full
    clock.advance(1.25)
    reads = [clock.now() - DEFAULT_EPOCH for _ in range(3)]
    assert reads == [timedelta(seconds=1, microseconds=us) for us in (250_003, 999_999, 999_999)]


def test_a_whole_second_advance_keeps_the_creep() -> None:
    clock = ManualClock()
    clock.tick([400_000])
    first = clock.now()
    clock.advance(5)
    assert clock.now() - first == timedelta(seconds=5, microseconds=400_000)


@given(
    steps=st.lists(st.integers(0, 999_999), min_size=1, max_size=5),
    moves=st.lists(
        st.builds(timedelta, seconds=st.integers(0, 3), microseconds=st.integers(0, 999_999)),
        max_size=8,
    ),
)
def test_any_advance_keeps_time_monotonic_and_within_a_second_of_its_length(
    steps: list[int], moves: list[timedelta]
) -> None:
    """A fractional advance restarts the creep, but never moves time back, and the
    elapsed time stays within a second of the advance (what texture's model allows)."""
    clock = ManualClock()
    clock.tick(steps)
    last = clock.now()
    for move in moves:
        before = clock.now()
        assert before >= last
        clock.advance(move.total_seconds())
        after = clock.now()
        assert after >= before
        assert move - timedelta(seconds=1) < after - before < move + timedelta(seconds=1)
        last = after
