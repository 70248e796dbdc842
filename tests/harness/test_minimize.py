"""Leaving out the calls a diverging trace does not need (``parity.trace.minimize``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from parity.cli import _verdict
from parity.diff.normalize import NormalizedRequest
from parity.lockstep import Divergence
from parity.lockstep.driver import JUDGED
from parity.lockstep.interleave import ARM, RELEASE, TAG_HEADER
from parity.lockstep.session import LockstepSession
from parity.trace import Trace
from parity.trace.minimize import (
    NOT_REPLAYING,
    DivergenceShape,
    minimizable,
    minimize,
    replay_hint,
    units,
)
from parity.trace.model import Step
from parity.trace.replay import replay
from tests.harness.toyapp import ToyFactory


def _padded_trace(session: LockstepSession) -> Trace:
    """Three calls the toy bug (values above 5) does not need, then the diverging one."""
    driver = session.new_driver()
    first = driver.call("POST", "/items", json={"value": 1})
    driver.call("POST", "/items", json={"value": 2})
    driver.call("GET", f"/items/{first.json()['id']}")
    with pytest.raises(Divergence):
        driver.call("POST", "/items", json={"value": 8})
    return session.trace_of(driver, "toy")


def test_unneeded_calls_are_left_out_and_the_rest_replays(
    toy_session: Callable[..., LockstepSession],
) -> None:
    session = toy_session(bug=True)
    trace = _padded_trace(session)
    examples = session.stats.examples
    short = minimize(trace, session)
    assert session.stats.examples == examples, "replays are not counted as examples"
    assert [s.request.json for s in short.steps] == [{"value": 8}]
    assert short.divergence_signature() == (0, {"other": ["body.value"]})
    assert short.replays is True and replay_hint("parity replay t", short) == "parity replay t"
    again = replay(short, toy_session(bug=True))
    assert again.diverged and again.same_divergence_as(short)


def test_a_trace_whose_calls_do_not_reproduce_it_is_kept_and_marked(
    toy_session: Callable[..., LockstepSession], capsys: pytest.CaptureFixture[str]
) -> None:
    """A divergence caused by something the trace does not record (here: the bug is in
    the recording session only; in the outbox scenario, a rule that crashed each app's
    relay by reaching into the app) never replays. The trace is kept whole, after one
    replay, and says so: before, the minimizer returned it as if checked, and
    ``parity selftest`` found "does NOT replay" only afterwards."""
    trace = _padded_trace(toy_session(bug=True))
    calm = toy_session(bug=False)
    kept = minimize(trace, calm)
    assert kept.replays is False
    assert [s.request.json for s in kept.steps] == [s.request.json for s in trace.steps]
    assert kept.divergence_signature() == trace.divergence_signature()
    factory = calm.factories["ref"]
    assert isinstance(factory, ToyFactory) and factory.created == 1, "one replay, no leave-outs"
    assert Trace.from_dict(kept.to_dict()).replays is False
    assert replay_hint("parity replay t", kept) == f"parity replay t  # {NOT_REPLAYING}"
    capsys.readouterr()
    assert _verdict(kept, replay(kept, calm)) == 0  # what `parity replay` prints
    assert capsys.readouterr().out.splitlines()[1:] == [f"note: {NOT_REPLAYING}"]


def test_a_trace_without_a_divergence_or_with_a_judged_step_is_kept(
    toy_session: Callable[..., LockstepSession],
) -> None:
    session = toy_session(bug=False)
    driver = session.new_driver()
    driver.call("POST", "/items", json={"value": 1})
    healthy = session.trace_of(driver, "toy")
    assert minimize(healthy, session) is healthy
    judged = _padded_trace(toy_session(bug=True))
    judged.steps.insert(0, Step(0, NormalizedRequest(JUDGED, "/items", {}, None)))
    assert not minimizable(judged)
    assert minimize(judged, session) is judged


def test_a_held_request_goes_only_with_its_arm_and_release() -> None:
    def step(method: str, path: str, headers: dict[str, str], body: object) -> Step:
        return Step(0, NormalizedRequest(method, path, headers, body))

    steps = [
        step("POST", "/items", {}, {"value": 1}),
        step("POST", ARM, {}, {"tag": "t1"}),
        step("POST", "/items", {TAG_HEADER: "t1"}, {"value": 2}),
        step("GET", "/items", {}, None),
        step("POST", RELEASE, {}, {"tag": "t1"}),
    ]
    assert units(steps) == [[0], [1, 2, 4], [3]]


def test_the_same_divergence_may_lose_a_field_but_never_gain_one() -> None:
    original = DivergenceShape(
        "POST", "/relay", {"fault": frozenset({"body.published", "body.failed"})}
    )
    fewer = DivergenceShape("POST", "/relay", {"fault": frozenset({"body.published"})})
    other_field = DivergenceShape("POST", "/relay", {"fault": frozenset({"status"})})
    other_route = DivergenceShape("POST", "/other", {"fault": frozenset({"body.published"})})
    other_backend = DivergenceShape("POST", "/relay", {"x": frozenset({"body.published"})})
    assert fewer.part_of(original) and original.part_of(original)
    assert not original.part_of(fewer)
    assert not any(s.part_of(original) for s in (other_field, other_route, other_backend))
