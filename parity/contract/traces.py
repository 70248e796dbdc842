"""Contract failures as traces: the same model as a lockstep scenario's divergence.

A contract namespace's calls are recorded as trace steps while they happen: first the
binding's auth set-up calls (``auth_headers``' sign-up: replayed, so every backend mints
its own token again and later steps carry it as ``<token:N>``), then the case(s). Each
step holds the normalised request (the reference's raw values → references, as the
lockstep driver writes it) and every backend's normalised and raw answer, so
``parity replay`` sends the same calls through a lockstep driver.

What "the same failure" means on replay:

- a divergence (and a check failure on a backend that also answers differently from the
  reference, the usual case): the same step, backends and differing paths — exactly the
  lockstep signature :meth:`Trace.divergence_signature`;
- a check failure where the failing backend agrees with the reference (the check fails
  everywhere): the step records a ``check:<name>`` difference on that backend, and
  :func:`same_failure` compares the failing backend's fresh normalised answer at that
  step with the one the trace stored (``contract.response``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from parity.contract.differential import Execution, Fanout
from parity.diff.compare import Difference, compare
from parity.diff.normalize import NormalizedRequest, Normalizer
from parity.lockstep.session import LockstepSession
from parity.targets.base import Response
from parity.targets.factory import TargetFactory
from parity.trace.minimize import minimize
from parity.trace.model import Step, Trace

#: request headers that are transport detail (or per-case noise), never part of a step
_DROPPED = {
    "content-length",
    "host",
    "connection",
    "accept-encoding",
    "accept",
    "user-agent",
    "x-schemathesis-testcaseid",
}


def raw_answer(resp: Response) -> dict[str, Any]:
    parsed = resp.json()
    return {
        "status": resp.status,
        "headers": dict(resp.headers),
        "body": parsed if parsed is not None else resp.text,
    }


def _answer(normalized: Any, resp: Response) -> dict[str, Any]:
    return {
        "normalized": normalized,
        "raw": raw_answer(resp),
        "elapsed_ms": round(resp.elapsed * 1000, 3),
    }


class SetupRecorder:
    """Records the auth set-up calls of one namespace on every backend; :meth:`steps`
    turns them into trace steps (the reference's requests, every backend's answers)."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.requests: list[NormalizedRequest] = []
        self.answers: dict[str, list[dict[str, Any]]] = {}

    def record(
        self,
        backend: str,
        normalizer: Normalizer,
        request: tuple[str, str, Mapping[str, str] | None, Any],
        response: Response,
    ) -> None:
        """Call *before* normalising ``response`` with ``normalizer`` (refs in order)."""
        if backend == self.reference:
            method, path, headers, body = request
            self.requests.append(normalizer.request(method, path, headers, body))
        normalized = normalizer.response(response, request[1])
        self.answers.setdefault(backend, []).append(_answer(normalized, response))

    def steps(self) -> list[Step]:
        out = []
        for i, request in enumerate(self.requests):
            responses = {b: answers[i] for b, answers in self.answers.items() if i < len(answers)}
            out.append(Step(index=i, request=request, responses=responses))
        return out

    def compared(self, ignore: tuple[str, ...] = ()) -> list[Step]:
        """The set-up calls as trace steps, each backend's differences from the
        reference recorded (as the lockstep driver would, so a replay meets them)."""
        steps = self.steps()
        for step in steps:
            expected = step.responses.get(self.reference, {}).get("normalized")
            for backend, answer in step.responses.items():
                if backend != self.reference:
                    actual = answer.get("normalized")
                    title = f"{step.request.line()} (set-up)"
                    step.compare(self.reference, backend, expected, actual, ignore, title)
        return steps

    def answered(self, backend: str) -> int:
        """How many set-up calls ``backend`` answered."""
        return len(self.answers.get(backend, []))


def case_request(fanout: Fanout, execution: Execution) -> NormalizedRequest:
    """The case's wire request as the lockstep driver would have written it."""
    wire = execution.wire
    headers = {k: v for k, v in wire.headers.items() if k.lower() not in _DROPPED}
    body: Any = None
    label = ""
    if wire.body:
        try:
            body = json.loads(wire.body)
        except ValueError:
            label = "body is not JSON: replayed without it"
    normalizer = fanout.normalizers[fanout.reference]
    return normalizer.request(wire.method, wire.path, headers, body, label)


def record_case(fanout: Fanout, execution: Execution) -> Step:
    """Append ``execution`` to the namespace's steps (see module doc)."""
    step = Step(
        index=len(fanout.steps),
        request=case_request(fanout, execution),
        responses={b: _answer(execution.normalized[b], resp) for b, resp in execution.raw.items()},
        differences={b: list(ds) for b, ds in execution.differences.items()},
        rendered=dict(execution.rendered),
    )
    fanout.steps.append(step)
    return step


def failure_trace(
    fanout: Fanout,
    steps: list[Step],
    *,
    operation: str,
    backend: str,
    check: str,
    message: str,
    template: Trace,
) -> Trace:
    """The trace of a failing case: ``steps`` (ending with the failing one) with the
    failure recorded on the last step, and ``template``'s run metadata.

    An earlier case of the same namespace that already diverged ends the trace instead:
    a replay stops at the first difference, as the lockstep driver does, so a trace
    that recorded only the later one would replay as "a different divergence"."""
    steps = [
        Step(s.index, s.request, dict(s.responses), dict(s.differences), dict(s.rendered))
        for s in steps
    ]
    first = next((i for i, s in enumerate(steps[:-1]) if s.differences), None)
    if first is not None:
        steps = steps[: first + 1]
    last = steps[-1]
    if check != "divergence" and backend not in last.differences:
        # the backend agrees with the reference: the failure is the check itself
        last.differences[backend] = [Difference(f"check:{check}", "pass", message)]
        last.rendered[backend] = f"step {last.index}: {last.request.line()}\n{message}"
    return Trace(
        scenario=f"contract/{operation}",
        reference=template.reference,
        backends=list(fanout.targets),
        seed=template.seed,
        store_seed=template.store_seed,
        app=dict(template.app),
        engines={n: dict(template.engines.get(n, {})) for n in fanout.targets},
        steps=steps,
        contract={
            "operation": operation,
            "check": check,
            "backend": backend,
            "message": message[:2000],
            "step": last.index,
            "response": (last.responses.get(backend) or {}).get("normalized"),
        },
    )


def same_failure(original: Trace, replayed: Trace) -> bool:
    """Does ``replayed`` (a replay of ``original``, run to the end) show its failure?

    A divergence: the same lockstep signature. A check failure: the same signature when
    the trace recorded real differences; otherwise the failing backend's normalised
    answer at the failing step equals the recorded one (same status, same body)."""
    contract = original.contract or {}
    step = original.divergent_step
    if step is None:
        return False
    backend = str(contract.get("backend", ""))
    synthetic = any(d.path.startswith("check:") for d in step.differences.get(backend, []))
    if not synthetic:
        return replayed.divergence_signature() == original.divergence_signature()
    index = int(contract.get("step", step.index))
    if index >= len(replayed.steps):
        return False
    answer = replayed.steps[index].responses.get(backend) or {}
    return not compare(contract.get("response"), answer.get("normalized"))


def shorten_chain(
    trace: Trace, factories: Mapping[str, TargetFactory], namespace_prefix: str
) -> Trace:
    """``trace`` (a stateful chain's failure) with the calls it does not need left out,
    as a lockstep divergence is: each call before the failing one is left out in turn
    and the rest replayed on fresh namespaces (:func:`parity.trace.minimize.minimize`).

    Why: Hypothesis shrinks a chain by its rules' choices within a few examples' budget;
    what it leaves often still has listings and lookups that play no part (a chain of
    five card reads ending in the faulty user lookup). Only a failure a replay can see
    is shortened: a difference from the reference. A check that fails on a backend
    agreeing with the reference (recorded as ``check:<name>``) is not something a replay
    compares, so such a trace is kept as it is, as is one whose shortening did not
    reproduce."""
    step = trace.divergent_step
    backend = str((trace.contract or {}).get("backend", ""))
    if step is None or any(d.path.startswith("check:") for d in step.differences.get(backend, [])):
        return trace
    session = LockstepSession(
        factories, trace.reference, namespace_prefix=namespace_prefix, seed=trace.replay_seed
    )
    try:
        shorter = minimize(trace, session)
    finally:
        session.close()
    if shorter is trace or shorter.divergent_step is None or shorter.replays is not True:
        return trace
    return with_failure_of(shorter, trace)


def with_failure_of(shorter: Trace, original: Trace) -> Trace:
    """``shorter``'s calls and answers with ``original``'s failure (its check, backend,
    message), pointed at ``shorter``'s failing step."""
    contract = dict(original.contract or {})
    last = shorter.divergent_step
    assert last is not None
    contract["step"] = last.index
    contract["response"] = (last.responses.get(str(contract.get("backend"))) or {}).get(
        "normalized"
    )
    return replace(shorter, contract=contract)
