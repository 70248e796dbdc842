"""The whole reproduction of a divergence, as every report format shows it.

A divergence event names the diverging step; the reader also needs the calls that lead
to it. :func:`reproduction` turns a trace into plain data (``calls``: method, path, the
body and headers the scenario set, each backend's status; ``differences``: backend,
path, reference value, backend value), which ``parity.json`` stores with the divergence
and the HTML, Markdown and terminal handlers render. :func:`enrich` fills it in from the
saved trace file when the event did not carry it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from parity.lockstep.interleave import RELEASE, TAG_HEADER
from parity.trace.model import Trace, TraceError

#: request headers a reader needs to follow the calls (others are transport detail)
SHOWN_HEADERS = ("authorization", "idempotency-key", "if-match", "x-parity-tag")


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=False)


def _releases(path: str, body: Any, tag: str) -> bool:
    return path == RELEASE and isinstance(body, dict) and body.get("tag") == tag


def reproduction(trace: Trace) -> dict[str, Any]:
    """``{"calls": [...], "differences": [...]}`` of ``trace`` (see the module doc)."""
    diverged = trace.divergent_step
    calls: list[dict[str, Any]] = []
    for step in trace.steps:
        req = step.request
        statuses = {
            backend: (answer.get("raw") or {}).get("status")
            for backend, answer in step.responses.items()
        }
        calls.append(
            {
                "index": step.index,
                "method": req.method,
                "path": req.path,
                "headers": {k: v for k, v in req.headers.items() if k in SHOWN_HEADERS},
                "body": req.json,
                "label": req.label,
                "status": statuses,
                "diverged": bool(step.differences),
            }
        )
        if diverged is not None and step.index >= diverged.index:
            # a held request is answered (and compared) when released: show the release
            tag = diverged.request.headers.get(TAG_HEADER)
            if not tag or _releases(step.request.path, step.request.json, tag):
                break
    differences = []
    if diverged is not None:
        for backend in sorted(diverged.differences):
            differences += [
                {"backend": backend, "path": d.path, "expected": d.expected, "actual": d.actual}
                for d in diverged.differences[backend]
            ]
    return {"calls": calls, "differences": differences}


@lru_cache(maxsize=64)
def _from_file(path: str, mtime: float) -> dict[str, Any] | None:
    from parity.trace.store import load_trace

    try:
        return reproduction(load_trace(Path(path)))
    except (TraceError, OSError):
        return None


def enrich(div: dict[str, Any]) -> dict[str, Any]:
    """``div`` (a report's divergence) with ``calls`` and ``differences`` read from its
    trace file when it lacks them; unchanged when the file is gone."""
    if div.get("calls"):
        return div
    path = div.get("trace")
    if not path:
        return div
    try:
        mtime = Path(path).stat().st_mtime
    except OSError:
        return div
    found = _from_file(str(path), mtime)
    if found is None:
        return div
    return {**div, **found}


def status_text(call: dict[str, Any], reference: str) -> str:
    """``201`` when every backend agrees, else ``memory 201, sqlite 200``."""
    statuses = call.get("status") or {}
    values = {v for v in statuses.values()}
    if len(values) <= 1:
        return str(next(iter(values), "?"))
    order = [reference, *sorted(b for b in statuses if b != reference)]
    return ", ".join(f"{b} {statuses[b]}" for b in order if b in statuses)


def call_parts(call: dict[str, Any]) -> tuple[str, str, str]:
    """(``METHOD path``, compact body or "", ``header: value`` list or "")."""
    body = "" if call.get("body") is None else _compact(call["body"])
    headers = "; ".join(f"{k}: {v}" for k, v in (call.get("headers") or {}).items())
    return f"{call['method']} {call['path']}", body, headers


def call_line(call: dict[str, Any], reference: str) -> str:
    """One call on one line: ``#2 POST /v1/x {"a": 1} [if-match: "1"] -> 201``."""
    request, body, headers = call_parts(call)
    parts = [f"#{call['index']}", request]
    if body:
        parts.append(body)
    if headers:
        parts.append(f"[{headers}]")
    parts.append(f"-> {status_text(call, reference)}")
    if call.get("diverged"):
        parts.append("<< diverges")
    return " ".join(parts)


def value_text(value: Any) -> str:
    return value if isinstance(value, str) else _compact(value)
