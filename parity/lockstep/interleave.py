"""Forced interleavings and per-backend calls, on top of the lockstep driver.

Two capabilities the plain lockstep step lacks:

- **Held requests** (:func:`hold`, :func:`release`): arm a pause point on every backend,
  send a request tagged ``X-Parity-Tag`` so each backend parks it just before its commit,
  and later release it; the scenario chooses the release order, so an interleaving of
  concurrent requests is exact and identical on every backend. Steps are recorded in
  sending order, and :func:`replay_steps` re-creates the same holds when a trace is
  replayed (a plain sequential replay would run the held requests one after another).
- **Direct calls** (:func:`direct`): one backend on its own, neither compared nor
  recorded — for free races whose outcome legitimately differs per backend and is judged
  against a sequential model instead of against the reference.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping
from typing import Any

from parity.diff.normalize import NormalizedRequest
from parity.lockstep.driver import JUDGED, LockstepDriver, PendingCall
from parity.targets.base import Response
from parity.trace.model import Step, TraceError

TAG_HEADER = "x-parity-tag"
ARM = "/_parity/pause/arm"
RELEASE = "/_parity/pause/release"
WAITING = "/_parity/pause/waiting"
#: how long a request may take to reach its pause point (or finish) on a loaded machine
HOLD_TIMEOUT = 20.0


class HoldTimeout(RuntimeError):
    """A tagged request neither reached its pause point nor finished: a harness error."""


def wait_held(driver: LockstepDriver, pending: PendingCall, tag: str) -> None:
    """Block until every backend has parked ``pending`` at its pause point, or answered
    it (a request refused before its commit never reaches the pause point)."""
    deadline = time.monotonic() + HOLD_TIMEOUT
    for name, target in driver.targets.items():
        delay = 0.0005
        while not pending.done(name):
            tags = (target.request("GET", WAITING).json() or {}).get("tags") or []
            if tag in tags:
                break
            if time.monotonic() > deadline:
                raise HoldTimeout(f"{name}: request tagged {tag!r} never reached its pause point")
            time.sleep(delay)
            delay = min(delay * 2, 0.02)


def hold(
    driver: LockstepDriver,
    method: str,
    path: str,
    tag: str,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    label: str = "",
    at: str | None = None,
) -> PendingCall:
    """Arm ``tag`` everywhere (one compared step), send the tagged request (a second
    step, compared when it finishes) and return once every backend holds it.

    ``at`` names the pause point it parks at, for an app with more than one (sent as
    the arm request's ``at``); left out, the app's default (usually its commit)."""
    driver.hold()
    arm = {"tag": tag} if at is None else {"tag": tag, "at": at}
    driver.call("POST", ARM, json=arm, label=f"arm {tag}")
    pending = driver.start(method, path, {**(headers or {}), TAG_HEADER: tag}, json, label)
    wait_held(driver, pending, tag)
    return pending


def release(driver: LockstepDriver, pending: PendingCall, tag: str) -> Response:
    """Release ``tag`` everywhere (a compared step), then wait for the held request and
    compare its answers: the next release happens only after this one committed."""
    driver.call("POST", RELEASE, json={"tag": tag}, label=f"release {tag}")
    return pending.wait()


def release_all(driver: LockstepDriver, tags: Iterable[str]) -> None:
    """Clean-up after a failure: let every still-held request go, on every backend,
    without recording anything (a parked request would otherwise sit out its timeout)."""
    tags = list(tags)
    for target in driver.targets.values():
        for tag in tags:
            # a broken target is already reported elsewhere
            with contextlib.suppress(Exception):
                target.request("POST", RELEASE, json={"tag": tag})


def armed_tags(driver: LockstepDriver) -> list[str]:
    """Every tag this example armed (from its recorded steps)."""
    tags = []
    for step in driver.steps:
        request = step.request
        if request.method == "POST" and request.path == ARM and isinstance(request.json, dict):
            tag = request.json.get("tag")
            if tag is not None:
                tags.append(str(tag))
    return tags


def release_armed(driver: LockstepDriver) -> None:
    """Let every request this example may still hold go (see ``LockstepDriver.settle``)."""
    tags = armed_tags(driver)
    if tags:
        release_all(driver, tags)


def concurrent(driver: LockstepDriver) -> None:
    """Before firing real threads at a backend: make every target run requests on their
    own threads (an in-process target may otherwise serialise them on its loop)."""
    driver.hold()


def direct(
    driver: LockstepDriver,
    backend: str,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
) -> Response:
    """Send one request (written in the reference's raw values) to ``backend`` only.
    Neither compared nor recorded, and its answer is not normalised, so it never shifts
    the stable references later lockstep steps are compared with."""
    ref = driver.normalizers[driver.reference]
    request = ref.request(method, path, headers, json)
    fallback = None if backend == driver.reference else ref
    m, p, h, body = driver.normalizers[backend].raw_request(request, fallback)
    return driver.targets[backend].request(m, p, h, body)


def replay_steps(driver: LockstepDriver, steps: Iterable[Step]) -> None:
    """Send a trace's steps the way they were sent live: a tagged request is held (not
    waited for) and is waited for right after the step that releases its tag. A judged
    step (:meth:`LockstepDriver.judge`) that diverged ends the replay with a one-line user
    error: only its scenario can re-run what was judged, and replaying the calls around
    it would say "no divergence" where there was one."""
    held: dict[str, PendingCall] = {}
    try:
        for step in steps:
            request: NormalizedRequest = step.request
            if request.method == JUDGED:
                if step.differences:
                    raise TraceError(
                        f"step {step.index} ({request.label or request.path}) is a check the "
                        "scenario judged each backend on, not a request: a replay cannot "
                        "re-run it; run the scenario again (parity run --scenarios, the "
                        "trace's seed)"
                    )
                # passed everywhere, and judged on calls nothing later depends on: kept
                # (unanswered) so the replay's steps keep the recorded numbering
                driver.steps.append(Step(index=len(driver.steps), request=request))
                continue
            tag = request.headers.get(TAG_HEADER)
            if tag:
                driver.hold()
                pending = driver.send(request)
                wait_held(driver, pending, tag)
                held[tag] = pending
                continue
            driver.send(request).wait()
            released = _released_tag(request)
            if released in held:
                held.pop(released).wait()
        # Held and never released by the trace (its example ended at a divergence):
        # let them go unrecorded, as a live example's close does (``settle``). Waiting
        # for them parked would sit out the app's pause timeout (30 s) on every replay,
        # and the minimizer replays such a trace many times.
        release_all(driver, held)
        for pending in held.values():
            pending.wait()
        held.clear()
    finally:
        if held:
            release_all(driver, held)


def _released_tag(request: NormalizedRequest) -> str | None:
    if request.method == "POST" and request.path == RELEASE and isinstance(request.json, dict):
        tag = request.json.get("tag")
        return str(tag) if tag is not None else None
    return None
