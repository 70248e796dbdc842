"""Generate once, execute everywhere: one schemathesis case → every backend → a diff.

The case is serialised by schemathesis exactly once, for the reference backend; the
resulting wire request (method, path, headers, body bytes) is replayed on every other
backend. Ids and tokens in it are translated through each backend's
:class:`~parity.diff.normalize.Normalizer` (a no-op in parity mode, where seeded ids make
them equal, so the bytes are identical). Answers are normalised and compared with the
harness's diff module, exactly like a lockstep step.
"""

from __future__ import annotations

import contextlib
import itertools
import json as jsonlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from schemathesis import Case

from parity.contract.transport import (
    BASE_URL,
    WireRequest,
    session_for,
    to_schemathesis_response,
)
from parity.diff.compare import Difference, compare
from parity.diff.normalize import DiffOptions, Normalizer
from parity.diff.render import render_side_by_side
from parity.targets.base import Response as TargetResponse
from parity.targets.base import Target


@dataclass
class Execution:
    """One case on every backend."""

    case: Case
    wire: WireRequest
    responses: dict[str, schemathesis.Response]
    differences: dict[str, list[Difference]] = field(default_factory=dict)
    rendered: dict[str, str] = field(default_factory=dict)
    #: every backend's answer as sent and as normalised (what a trace step stores)
    raw: dict[str, TargetResponse] = field(default_factory=dict)
    normalized: dict[str, Any] = field(default_factory=dict)


_NOT_JSON = object()


def _json_body(body: bytes) -> Any:
    """The body as JSON, or ``_NOT_JSON`` (negative cases send anything)."""
    try:
        return jsonlib.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


class Fanout:
    """One isolated namespace on every backend, reference first."""

    def __init__(
        self,
        targets: Mapping[str, Target],
        reference: str,
        executor: ThreadPoolExecutor,
        options: DiffOptions | None = None,
    ) -> None:
        self.targets = dict(targets)
        self.reference = reference
        self.options = options or DiffOptions()
        self.normalizers = {name: Normalizer(self.options) for name in self.targets}
        self.sessions = {name: session_for(t) for name, t in self.targets.items()}
        self.executor = executor
        #: backend -> role -> the headers that authenticate it in this namespace
        self.auth: dict[str, dict[str, dict[str, str]]] = {}
        self.calls = 0
        #: the calls made in this namespace, as trace steps: the binding's auth set-up
        #: first, then every case (see :mod:`parity.contract.traces`)
        self.steps: list[Any] = []
        self.backend_seconds: dict[str, float] = dict.fromkeys(self.targets, 0.0)
        #: parameter name -> values (ids, versions, keys) the binding's ``seed_contract``
        #: made in this namespace (the reference's raw values; see
        #: :mod:`parity.contract.seeding`)
        self.seeded: dict[str, list[str]] = {}

    @property
    def others(self) -> list[str]:
        return [n for n in self.targets if n != self.reference]

    def minted_tokens(self) -> set[str]:
        """Every token the reference answered with in this namespace (the set-up's and
        the cases'), raw: the credentials a client of this namespace can hold."""
        normalizer = self.normalizers[self.reference]
        found: set[str] = set()
        for n in itertools.count(1):
            raw = normalizer.raw(f"<token:{n}>")
            if raw is None:
                return found
            found.add(raw)
        return found

    def translate(self, wire: WireRequest, backend: str) -> WireRequest:
        """``wire`` in ``backend``'s own ids and tokens (identical in parity mode)."""
        ref, mine = self.normalizers[self.reference], self.normalizers[backend]

        def tr(text: str) -> str:
            return mine.denormalize_text(ref.text(text), fallback=ref)

        body = wire.body
        if body:
            parsed = _json_body(body)
            if parsed is not _NOT_JSON:
                # As the lockstep driver does: the reference's request normalised (a
                # made-up id gets its reference on every backend alike), then written in
                # this backend's raw values, JSON integer ids as integers.
                normalized = ref.request(wire.method, wire.path, json=parsed)
                raw = mine.raw_request(normalized, fallback=ref)[3]
                if raw != parsed:  # else the very bytes the reference got
                    body = jsonlib.dumps(raw, ensure_ascii=False).encode()
            else:
                with contextlib.suppress(UnicodeDecodeError):
                    body = tr(body.decode("utf-8")).encode("utf-8")
        headers = {k: tr(v) for k, v in wire.headers.items()}
        headers.update(self._own_auth(wire.headers, backend))
        return WireRequest(wire.method, tr(wire.path), headers, body)

    def _own_auth(self, sent: Mapping[str, str], backend: str) -> dict[str, str]:
        """``backend``'s own credentials for the role whose credentials the reference
        was sent with (tokens of apps that do not mint JWTs cannot be mapped by value)."""
        lowered = {k.lower(): (k, v) for k, v in sent.items()}
        for role, headers in self.auth.get(self.reference, {}).items():
            if headers and all(
                lowered.get(k.lower(), ("", None))[1] == v for k, v in headers.items()
            ):
                mine = self.auth.get(backend, {}).get(role, {})
                return {lowered[k.lower()][0]: v for k, v in mine.items() if k.lower() in lowered}
        return {}

    def execute(self, case: Case, headers: dict[str, str]) -> Execution:
        """Serialise and send ``case`` on the reference, replay it on the others, diff."""
        ref_resp = case.call(
            base_url=BASE_URL, session=self.sessions[self.reference], headers=headers
        )
        wire = WireRequest.from_prepared(ref_resp.request)
        raw: dict[str, TargetResponse] = {}
        prepared: dict[str, requests.PreparedRequest] = {}
        futures = {}
        for name in self.others:
            mine = self.translate(wire, name)
            prep = ref_resp.request.copy()
            prep.url = BASE_URL + mine.path
            prep.body = mine.body or None
            prep.headers.update(mine.headers)
            prepared[name] = prep
            futures[name] = self.executor.submit(mine.send, self.targets[name])
        for name, fut in futures.items():
            raw[name] = fut.result()
        self.calls += 1
        self.backend_seconds[self.reference] += ref_resp.elapsed
        responses = {self.reference: ref_resp}
        for name in self.others:
            self.backend_seconds[name] += raw[name].elapsed
            responses[name] = to_schemathesis_response(raw[name], prepared[name])
        execution = Execution(case, wire, responses)
        self._diff(execution, ref_resp, raw)
        return execution

    def _diff(
        self,
        execution: Execution,
        ref_resp: schemathesis.Response,
        raw: dict[str, TargetResponse],
    ) -> None:
        ref_target = TargetResponse(
            ref_resp.status_code,
            {k: ", ".join(v) for k, v in ref_resp.headers.items()},
            ref_resp.content or b"",
        )
        path = execution.wire.path
        expected = self.normalizers[self.reference].response(ref_target, path)
        execution.raw[self.reference] = ref_target
        execution.normalized[self.reference] = expected
        for name, resp in raw.items():
            actual = self.normalizers[name].response(resp, path)
            execution.raw[name] = resp
            execution.normalized[name] = actual
            diffs = compare(expected, actual, ignore=self.options.ignore_paths)
            if diffs:
                execution.differences[name] = diffs
                execution.rendered[name] = render_side_by_side(
                    execution.wire.line(), self.reference, name, expected, actual, diffs
                )

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()
