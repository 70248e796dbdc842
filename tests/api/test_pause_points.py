"""The pause protocol's kinds of point: a tag parks only at the kind it was armed for
(``before_commit`` by default, or ``before_claim``), so holding a request before its
idempotency claim leaves every other hold exactly where it was."""

from __future__ import annotations

import threading

import pytest

from reference_app.adapters.pause import BEFORE_CLAIM, PauseController


def _reach_in_thread(pause: PauseController, point: str, tag: str) -> threading.Thread:
    thread = threading.Thread(target=pause.reach, args=(point, tag), daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("armed_at", "parks_at", "passes"),
    [
        (None, "before_commit:post_purchase", "before_claim"),
        (BEFORE_CLAIM, "before_claim", "before_commit:post_purchase"),
    ],
)
def test_a_tag_parks_only_at_the_kind_of_point_it_was_armed_for(
    armed_at: str | None, parks_at: str, passes: str
) -> None:
    pause = PauseController(timeout_seconds=5)
    if armed_at is None:
        pause.arm("t")
    else:
        pause.arm("t", armed_at)
    passing = _reach_in_thread(pause, passes, "t")
    passing.join(2)
    assert not passing.is_alive(), f"{passes} held a tag armed at {armed_at}"
    parked = _reach_in_thread(pause, parks_at, "t")
    assert pause.wait_until_held("t", timeout=2), f"{parks_at} did not hold the tag"
    assert pause.release("t")
    parked.join(2)
    assert not parked.is_alive()
