from __future__ import annotations

from collections.abc import Callable
from json import dumps
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import rule

from parity.lockstep import Divergence, LockstepMachine
from parity.lockstep.interleave import replay_steps
from parity.lockstep.session import LockstepSession
from parity.run.scenario import hypothesis_run


class ToyScenario(LockstepMachine):
    scenario = "toy"

    @rule(value=st.integers(min_value=0, max_value=20))
    def create(self, value: int) -> None:
        assert self.call("POST", "/items", json={"value": value}).status == 201

    @rule()
    def list_all(self) -> None:
        self.paginate("/items?limit=2")


def test_call_fans_out_and_returns_reference_answer(
    toy_session: Callable[..., LockstepSession],
) -> None:
    session = toy_session(id_offset=1000)
    driver = session.new_driver()
    for value in (1, 2, 3):
        resp = driver.call("POST", "/items", json={"value": value})
        assert resp.status == 201
    first = driver.call("GET", "/items?limit=2")
    # The reference's cursor is followed on the other backend as *its own* cursor.
    cursor = first.json()["next_cursor"]
    second = driver.call("GET", f"/items?limit=2&cursor={cursor}")
    assert [i["value"] for i in second.json()["items"]] == [3]
    assert len(driver.steps) == 5
    assert driver.steps[4].request.path == "/items?limit=2&cursor=<cursor:1>"
    session.finish(driver, "toy", final=False, error=None)


def test_divergence_message_is_a_side_by_side_diff(
    toy_session: Callable[..., LockstepSession],
) -> None:
    driver = toy_session(bug=True).new_driver()
    driver.call("POST", "/items", json={"value": 1})
    with pytest.raises(Divergence) as info:
        driver.call("POST", "/items", json={"value": 9})
    message = str(info.value)
    assert message.startswith("divergence at step 1 (POST /items): other differ from ref")
    assert "body.value: ref=9  other=10" in message
    assert info.value.backends == ["other"]


def test_machine_without_session_explains_how_to_bind() -> None:
    with pytest.raises(RuntimeError, match="not bound to a lockstep session"):
        ToyScenario()


def test_hypothesis_finds_and_shrinks_the_planted_bug(
    toy_session: Callable[..., LockstepSession],
) -> None:
    session = toy_session(bug=True)
    error = hypothesis_run(ToyScenario.bind(session), 100, 10, seed=1)
    assert isinstance(error, Divergence)
    assert session.final is not None
    trace = session.final.trace
    assert len(trace.steps) == 1  # shrunk to the one call that shows the bug
    assert trace.steps[0].request.json == {"value": 6}  # the smallest failing value


def test_identical_backends_pass_and_examples_are_isolated(
    toy_session: Callable[..., LockstepSession],
) -> None:
    session = toy_session(id_offset=7)
    assert hypothesis_run(ToyScenario.bind(session), 20, 8, seed=2) is None
    assert session.stats.examples >= 20
    factory = session.factories["other"]
    assert factory.created == session.stats.examples  # type: ignore[attr-defined]


class OnceScenario(LockstepMachine):
    """Diverges on its first example only: Hypothesis can never replay it (as with a
    race a backend lost once), so it ends with a "flaky" error."""

    scenario = "once"
    sent = 0

    @rule()
    def create(self) -> None:
        OnceScenario.sent += 1
        value = 9 if OnceScenario.sent == 1 else 1  # > 5 hits the planted bug
        self.call("POST", "/items", json={"value": value})


def test_an_unreplayable_divergence_is_kept_for_the_report(
    toy_session: Callable[..., LockstepSession],
) -> None:
    from parity.run.scenario import _unreplayable

    OnceScenario.sent = 0
    session = toy_session(bug=True)
    error = hypothesis_run(OnceScenario.bind(session), examples=5, steps=3, seed=0)
    assert _unreplayable(error), repr(error)
    assert session.final is None or session.final.trace.divergent_step is None
    kept = session.diverged
    assert kept is not None and kept.divergent_step is not None
    assert sorted(kept.divergent_step.differences) == ["other"]
    assert kept.steps[-1].request.json == {"value": 9}


def test_an_example_closes_only_after_its_held_requests_finished(
    toy_session: Callable[..., LockstepSession],
) -> None:
    """``settle`` releases what the example armed and waits for every request in flight,
    so no pool thread is left waiting on a closed target."""
    import threading

    session = toy_session()
    driver = session.new_driver()
    gate = threading.Event()
    released: list[bool] = []
    real = driver.targets["other"].request

    def slow(*args: object, **kwargs: object) -> object:
        gate.wait(10)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    driver.targets["other"].request = slow  # type: ignore[method-assign]
    driver.hold()
    pending = driver.start("POST", "/items", json={"value": 1})
    assert not pending.done("other")

    def release() -> None:
        released.append(True)
        gate.set()

    assert driver.settle(release, timeout=10)
    assert released == [True] and pending.done("other")
    session.finish(driver, "toy", final=False, error=None)


def test_a_replayed_hold_never_released_by_its_trace_is_let_go_not_timed_out(
    toy_session: Callable[..., LockstepSession],
) -> None:
    """A trace saved at a divergence can end with a request still held (its release never
    came). Replaying it releases that request as a live example's close does, instead of
    waiting for the app's pause timeout: the minimizer replays such traces many times."""
    import threading

    from parity.lockstep.interleave import ARM, RELEASE, TAG_HEADER, WAITING, hold, release_all
    from parity.targets.base import Response

    gates: dict[str, threading.Event] = {}
    released_by_call: list[bool] = []

    def pausing(name: str, real: Callable[..., Response]) -> Callable[..., Response]:
        """The app's pause points, in front of a toy target: a tagged request parks until
        its tag is released (or its 5 s timeout, which this test must never reach)."""
        gate = gates.setdefault(name, threading.Event())
        parked: list[str] = []

        def request(method: str, path: str, headers: Any = None, json: Any = None) -> Response:
            if path == ARM:
                return Response(200, {}, b"{}")
            if path == WAITING:
                return Response(200, {}, dumps({"tags": parked}).encode())
            if path == RELEASE:
                gate.set()
                return Response(200, {}, b"{}")
            tag = (headers or {}).get(TAG_HEADER)
            if tag:
                parked.append(tag)
                released_by_call.append(gate.wait(5))
            return real(method, path, headers, json)

        return request

    def driver_of(session: LockstepSession) -> Any:
        driver = session.new_driver()
        for name, target in driver.targets.items():
            target.request = pausing(name, target.request)  # type: ignore[method-assign]
        return driver

    session = toy_session()
    live = driver_of(session)
    hold(live, "POST", "/items", "c1", json={"value": 1})  # arm + the held request
    recorded = list(live.steps)  # the example "ended" here: no release step
    release_all(live, ["c1"])
    session.finish(live, "toy", final=False, error=None)
    assert [s.request.path for s in recorded] == [ARM, "/items"]

    gates.clear()
    released_by_call.clear()
    replaying = driver_of(session)
    replay_steps(replaying, recorded)
    assert released_by_call == [True, True]  # let go by a release, never by the timeout
    assert replaying.steps[1].responses["other"]["raw"]["status"] == 201
    session.finish(replaying, "toy", final=False, error=None)
