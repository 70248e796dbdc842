"""Reproduction beyond Parity: a trace as a self-contained pytest file or curl script.

``parity replay TRACE --emit pytest`` writes a test that needs only ``httpx`` and
``pytest``: it sends the trace's calls in order to one base URL per backend (an
environment variable each, e.g. ``PARITY_URL_MEMORY``), compares every answer with the
reference's and fails at the first step where they differ, as the lockstep driver does.
``--emit curl`` writes a shell script that sends the same calls to one server with curl
and prints each status next to what every backend answered when the trace was recorded.

A trace stores *normalised* requests (``/v1/cards/<id:3>``). The emitted files resolve a
reference at run time the way the driver's :class:`~parity.diff.normalize.Normalizer`
does, from the server's own answers: for each reference the emitter finds the first
answer of the recorded reference backend that shows it (a JSON path, or a pattern such
as ``/v1/cards/<id:3>/transactions/<id:4>`` in a header) and the emitted file reads the
raw value at the same place of the live answer. Tokens are therefore re-minted by the
live sign-up, never copied or filtered. A value a scenario made up (an id no answer
showed, for a 404 probe) cannot be recovered from a trace: it is sent as
``unknown-<kind>-<n>``.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from parity.diff.normalize import REF_RE
from parity.lockstep.driver import JUDGED
from parity.lockstep.interleave import RELEASE, TAG_HEADER
from parity.trace.model import Step, Trace, TraceError

#: (ref, path into {"status","headers","body"}, the normalised value found there)
Learn = tuple[str, list[str | int], str]


def env_var(backend: str) -> str:
    """``fault:wrong-status`` → ``PARITY_URL_FAULT_WRONG_STATUS``."""
    return "PARITY_URL_" + re.sub(r"[^A-Z0-9]+", "_", backend.upper()).strip("_")


def _walk_refs(value: Any, path: list[str | int], out: list[tuple[list[str | int], str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _walk_refs(item, [*path, key], out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk_refs(item, [*path, i], out)
    elif isinstance(value, str) and REF_RE.search(value):
        out.append((path, value))


def _refs_in_request(step: Step) -> list[str]:
    req = step.request
    text = req.path + json.dumps(req.headers) + json.dumps(req.json)
    return [m.group(0) for m in REF_RE.finditer(text)]


def plan(trace: Trace) -> tuple[list[dict[str, Any]], dict[str, bool]]:
    """Per step: the request and where its answer first shows each reference
    (``learn``); and which references were JSON integers. Steps end at the divergence."""
    seen: set[str] = set()
    ints: dict[str, bool] = {}
    steps: list[dict[str, Any]] = []
    diverged = trace.divergent_step
    if diverged is not None and diverged.request.method == JUDGED:
        raise TraceError(
            f"step {diverged.index} ({diverged.request.label or diverged.request.path}) is a "
            "check the scenario judged each backend on, not a request: no HTTP calls "
            "reproduce it; run the scenario again (parity run --scenarios, the trace's seed)"
        )
    for step in trace.steps:
        if step.request.method == JUDGED:
            continue  # passed everywhere, on calls of its own (see LockstepDriver.judge)
        for ref in _refs_in_request(step):
            seen.add(ref)  # made up by the scenario (never shown by an answer) if new
        answer = step.responses.get(trace.reference) or {}
        normalized = answer.get("normalized") or {}
        raw = answer.get("raw") or {}
        found: list[tuple[list[str | int], str]] = []
        _walk_refs(normalized, [], found)
        learn: list[Learn] = []
        for path, text in found:
            new = [m.group(0) for m in REF_RE.finditer(text) if m.group(0) not in seen]
            if not new:
                continue
            learn.append((new[0], path, text))
            seen.update(new)
            if text == new[0]:
                ints[new[0]] = isinstance(_at(raw, path), int)
        steps.append(
            {
                "index": step.index,
                "request": step.request.to_dict(),
                "learn": [list(item) for item in learn],
                "status": {
                    b: (r.get("raw") or {}).get("status") for b, r in step.responses.items()
                },
                "diverged": sorted(step.differences),
            }
        )
        if diverged is not None and step.index >= diverged.index:
            # a held request is compared when released: go on to its release
            tag = diverged.request.headers.get(TAG_HEADER)
            if not tag or _releases(step, tag):
                break
    return steps, ints


def _releases(step: Step, tag: str) -> bool:
    body = step.request.json
    return step.request.path == RELEASE and isinstance(body, dict) and body.get("tag") == tag


def _at(doc: Any, path: list[str | int]) -> Any:
    for key in path:
        try:
            doc = doc[key]
        except (KeyError, IndexError, TypeError):
            return None
    return doc


def _header(trace: Trace, what: str) -> str:
    step = trace.divergent_step
    where = (
        f"{', '.join(sorted(step.differences))} differ from {trace.reference} at step "
        f"{step.index} ({step.request.line()})"
        if step
        else "no divergence recorded"
    )
    return (
        f"{what} of a Parity trace: scenario {trace.scenario!r}, recorded "
        f"{trace.created_at or 'at an unknown time'} on {', '.join(trace.backends)}; {where}."
    )


# ----------------------------------------------------------------------------- pytest

PYTEST_TEMPLATE = '''"""{header}

Generated by ``parity replay --emit pytest``; needs only httpx and pytest. Start one
fresh server (empty store) per backend, then:

{usage}
    pytest {{this file}}

The calls run in order on every backend whose URL is set ({reference}, the reference,
is required); each answer is compared with the reference's after replacing ids, tokens
and timestamps by stable references (resolved from each server's own answers). The test
fails at the first step where a backend answers differently. Calls to /_parity/... need
the app's test mode (manual clock, seeded ids) on every server.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from typing import Any

import httpx
import pytest

REFERENCE = {reference!r}
#: backend -> the environment variable holding its base URL
BACKENDS = {backends!r}
#: response headers that are compared (others differ legitimately)
HEADERS = {headers!r}
IGNORE_PATHS = {ignore!r}
#: references whose raw value is a JSON integer
INT_REFS = {ints!r}
STEPS = json.loads(
    r"""
{steps}
"""
)

REF_RE = re.compile(r"<(id|cursor|token|ts|etag):(\\d+)>")
TS_RE = re.compile(
    r"^\\d{{4}}-\\d{{2}}-\\d{{2}}[T ]\\d{{2}}:\\d{{2}}:\\d{{2}}(?:\\.\\d+)?"
    r"(?:Z|[+-]\\d{{2}}:?\\d{{2}})$"
)
ORIGIN_RE = re.compile(r"^https?://[^/]+")
TAG_HEADER = {tag_header!r}


def _canon(value: str) -> str:
    """One spelling per timestamp (backends may print the same instant differently)."""
    if not TS_RE.match(value):
        return value
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return value
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Resolver:
    """One backend's references (``<id:3>``) and their raw values in its answers."""

    def __init__(self, fallback: "Resolver | None" = None) -> None:
        self.raw: dict[str, Any] = {{}}
        self.ref: dict[str, str] = {{}}
        self.fallback = fallback

    def value(self, ref: str) -> Any:
        if ref in self.raw:
            return self.raw[ref]
        if self.fallback is not None and ref in self.fallback.raw:
            return self.fallback.raw[ref]  # a value only the reference showed so far
        return "unknown-" + ref[1:-1].replace(":", "-")

    def text(self, value: str) -> str:
        return REF_RE.sub(lambda m: str(self.value(m.group(0))), value)

    def denormalize(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            return {{k: self.denormalize(v) for k, v in obj.items()}}
        if isinstance(obj, list):
            return [self.denormalize(v) for v in obj]
        if isinstance(obj, str):
            if REF_RE.fullmatch(obj):
                return self.value(obj)
            return self.text(obj)
        return obj

    def learn(self, answer: dict[str, Any], path: list[Any], pattern: str) -> None:
        value: Any = answer
        for key in path:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                return
        if REF_RE.fullmatch(pattern):
            self._bind(pattern, value)
            return
        parts = REF_RE.split(pattern)
        regex = ""
        names = []
        for i in range(0, len(parts), 3):
            regex += re.escape(parts[i])
            if i + 2 < len(parts):
                regex += "(.+?)"
                names.append(f"<{{parts[i + 1]}}:{{parts[i + 2]}}>")
        match = re.fullmatch(regex, str(value))
        if match:
            for name, raw in zip(names, match.groups()):
                if name not in self.raw:
                    self._bind(name, raw)

    def _bind(self, ref: str, raw: Any) -> None:
        if ref in INT_REFS and isinstance(raw, str) and raw.isdigit():
            raw = int(raw)
        self.raw.setdefault(ref, raw)
        key = _canon(raw) if isinstance(raw, str) else str(raw)
        self.ref.setdefault(key, ref)

    def normalize(self, obj: Any, key: str | None = None) -> Any:
        if isinstance(obj, dict):
            return {{k: self.normalize(v, k) for k, v in obj.items()}}
        if isinstance(obj, list):
            return [self.normalize(v, key) for v in obj]
        if isinstance(obj, bool) or obj is None:
            return obj
        if isinstance(obj, int):
            if key is not None and (key == "id" or key.endswith("_id")):
                return self.ref.get(str(obj), obj)
            return obj
        if isinstance(obj, str):
            whole = self.ref.get(_canon(obj))
            if whole is not None:
                return whole
            for raw in sorted(self.ref, key=len, reverse=True):
                if len(raw) >= 8 and raw in obj:
                    obj = obj.replace(raw, self.ref[raw])
            return obj
        return obj


def answer(resp: httpx.Response) -> dict[str, Any]:
    """The comparable form of a response: status, the compared headers, the body."""
    headers = {{}}
    for name in HEADERS:
        if name in resp.headers:
            value = resp.headers[name]
            if name == "content-type":
                value = value.split(";", 1)[0].strip().lower()
            if name == "location":
                value = ORIGIN_RE.sub("", value)
            headers[name] = value
    try:
        body: Any = resp.json()
    except ValueError:
        body = resp.text
    return {{"status": resp.status_code, "headers": headers, "body": body}}


def _ignored(doc: Any) -> Any:
    for path in IGNORE_PATHS:
        keys = path.split(".")
        parent = doc
        for key in keys[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent.pop(keys[-1], None)
    return doc


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in list(expected) + [k for k in actual if k not in expected]:
            sub = f"{{path}}.{{key}}" if path else str(key)
            out += differences(expected.get(key, "<missing>"), actual.get(key, "<missing>"), sub)
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        for i in range(max(len(expected), len(actual))):
            left = expected[i] if i < len(expected) else "<missing>"
            right = actual[i] if i < len(actual) else "<missing>"
            out += differences(left, right, f"{{path}}[{{i}}]")
        return out
    if expected != actual or type(expected) is not type(actual):
        return [f"{{path}}: {{json.dumps(expected)}} != {{json.dumps(actual)}}"]
    return []


def _urls() -> dict[str, str]:
    urls = {{b: os.environ[var].rstrip("/") for b, var in BACKENDS.items() if os.environ.get(var)}}
    if REFERENCE not in urls:
        pytest.skip(f"set {{BACKENDS[REFERENCE]}} (the reference) and at least one of "
                    + ", ".join(v for b, v in BACKENDS.items() if b != REFERENCE))
    if len(urls) < 2:
        pytest.skip("set a base URL for a backend to compare: "
                    + ", ".join(v for b, v in BACKENDS.items() if b != REFERENCE))
    return urls


def _send(client: httpx.Client, resolver: Resolver, request: dict[str, Any]) -> httpx.Response:
    headers = {{k: resolver.text(v) for k, v in (request.get("headers") or {{}}).items()}}
    kwargs: dict[str, Any] = {{"headers": headers}}
    if "json" in request:
        kwargs["json"] = resolver.denormalize(request["json"])
    return client.request(request["method"], resolver.text(request["path"]), **kwargs)


def _wait_held(client: httpx.Client, tag: str, done: threading.Event) -> None:
    deadline = time.monotonic() + 20
    while not done.is_set() and time.monotonic() < deadline:
        if tag in (client.get("/_parity/pause/waiting").json() or {{}}).get("tags", []):
            return
        time.sleep(0.01)


def test_backends_answer_alike() -> None:
    urls = _urls()
    clients = {{b: httpx.Client(base_url=u, timeout=30) for b, u in urls.items()}}
    ref_resolver = Resolver()
    resolvers = {{b: ref_resolver if b == REFERENCE else Resolver(ref_resolver) for b in urls}}
    held: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {{}}
    failures: list[str] = []

    def compare(step: dict[str, Any], responses: dict[str, httpx.Response]) -> None:
        answers = {{b: answer(r) for b, r in responses.items()}}
        for ref, path, pattern in step["learn"]:
            for b in urls:
                resolvers[b].learn(answers[b], path, pattern)
        normalized = {{b: _ignored(resolvers[b].normalize(a)) for b, a in answers.items()}}
        line = f"step {{step['index']}}: {{step['request']['method']}} {{step['request']['path']}}"
        for b in urls:
            if b == REFERENCE:
                continue
            diffs = differences(normalized[REFERENCE], normalized[b])
            if diffs:
                failures.append(
                    f"{{line}}: {{b}} differs from {{REFERENCE}}:\\n    " + "\\n    ".join(diffs)
                    + f"\\n  {{REFERENCE}}: {{json.dumps(normalized[REFERENCE])}}"
                    + f"\\n  {{b}}: {{json.dumps(normalized[b])}}"
                )

    try:
        for step in STEPS:
            request = step["request"]
            tag = (request.get("headers") or {{}}).get(TAG_HEADER)
            if tag:
                results: dict[str, Any] = {{}}
                threads = []
                for b in urls:
                    done = threading.Event()

                    def go(
                        b: str = b,
                        done: threading.Event = done,
                        results: dict[str, Any] = results,
                        request: dict[str, Any] = request,
                    ) -> None:
                        try:
                            results[b] = _send(clients[b], resolvers[b], request)
                        finally:
                            done.set()

                    thread = threading.Thread(target=go, daemon=True)
                    thread.start()
                    threads.append(thread)
                    _wait_held(clients[b], tag, done)
                held[tag] = (step, {{"threads": threads, "results": results}})
                continue
            responses = {{b: _send(clients[b], resolvers[b], request) for b in urls}}
            compare(step, responses)
            if failures:
                break
            body = request.get("json")
            if request["path"] == "/_parity/pause/release" and isinstance(body, dict):
                waiting = held.pop(str(body.get("tag")), None)
                if waiting is not None:
                    for thread in waiting[1]["threads"]:
                        thread.join(60)
                    compare(waiting[0], waiting[1]["results"])
                    if failures:
                        break
    finally:
        for tag in held:  # still parked after the last step: let them go, uncompared
            for client in clients.values():
                client.post("/_parity/pause/release", json={{"tag": tag}})
        for _, waiting in held.values():
            for thread in waiting["threads"]:
                thread.join(10)
        for client in clients.values():
            client.close()
    if failures:
        pytest.fail("\\n".join(failures), pytrace=False)
'''


def emit_pytest(trace: Trace) -> str:
    steps, ints = plan(trace)
    backends = {b: env_var(b) for b in trace.backends}
    usage = "\n".join(f"    export {var}=http://127.0.0.1:PORT" for var in backends.values())
    options = trace.diff_options()
    headers = list(options.headers) if options else ["content-type", "location", "etag"]
    ignore = list(options.ignore_paths) if options else []
    return PYTEST_TEMPLATE.format(
        header=_header(trace, "Reproduction"),
        usage=usage,
        reference=trace.reference,
        backends=backends,
        headers=headers,
        ignore=[p for p in ignore if "[" not in p and "*" not in p],
        ints=sorted(r for r, is_int in ints.items() if is_int),
        steps=json.dumps(steps, indent=1, ensure_ascii=False).replace('"""', '\\u0022""'),
        tag_header=TAG_HEADER,
    )


# ----------------------------------------------------------------------------- curl

LEARN_PY = r"""
import json, re, sys
REF_RE = re.compile(r"<(id|cursor|token|ts|etag):(\d+)>")
out, path, pattern, want = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
status = int(open(out + ".status").read().strip() or 0)
headers = {}
for line in open(out + ".headers", encoding="utf-8", errors="replace"):
    if ":" in line:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
if "location" in headers:
    headers["location"] = re.sub(r"^https?://[^/]+", "", headers["location"])
try:
    body = json.load(open(out + ".body", encoding="utf-8"))
except ValueError:
    body = open(out + ".body", encoding="utf-8", errors="replace").read()
value = {"status": status, "headers": headers, "body": body}
for key in path:
    try:
        value = value[key]
    except (KeyError, IndexError, TypeError):
        sys.exit(0)
if REF_RE.fullmatch(pattern):
    print(value if not isinstance(value, (dict, list)) else json.dumps(value))
    sys.exit(0)
parts = REF_RE.split(pattern)
regex, names = "", []
for i in range(0, len(parts), 3):
    regex += re.escape(parts[i])
    if i + 2 < len(parts):
        regex += "(.+?)"
        names.append("<%s:%s>" % (parts[i + 1], parts[i + 2]))
match = re.fullmatch(regex, str(value))
if match and want in names:
    print(match.group(names.index(want) + 1))
"""


def _var(ref: str) -> str:
    kind, n = ref[1:-1].split(":")
    return f"{kind.upper()}_{n}"


def _shell_text(text: str) -> str:
    """``text`` for a double-quoted shell word: literal parts escaped, refs as ``${VAR}``."""
    out = []
    last = 0
    for match in REF_RE.finditer(text):
        out.append(_dq(text[last : match.start()]))
        out.append("${" + _var(match.group(0)) + "}")
        last = match.end()
    out.append(_dq(text[last:]))
    return '"' + "".join(out) + '"'


def _dq(text: str) -> str:
    return re.sub(r'([\\"$`])', r"\\\1", text)


def _json_text(value: Any, ints: dict[str, bool]) -> str:
    """The request body as JSON text with references as shell variables."""

    def whole(match: re.Match[str]) -> str:
        ref = match.group(1)
        var = "${" + _var(ref) + "}"
        return var if ints.get(ref) else f'"{var}"'

    text = json.dumps(value, ensure_ascii=False)
    text = re.sub(r'"(<(?:id|cursor|token|ts|etag):\d+>)"', whole, text)
    return text


def emit_curl(trace: Trace) -> str:
    steps, ints = plan(trace)
    known: set[str] = set()
    lines = [
        "#!/usr/bin/env bash",
        f"# {_header(trace, 'curl reproduction')}",
        "# Generated by `parity replay --emit curl`. Usage: bash THIS_FILE BASE_URL",
        "# (a fresh server of one backend, e.g. http://127.0.0.1:8000). Each call prints the",
        "# status it got next to what every backend answered when the trace was recorded.",
        "# Tokens and ids are read from this server's own answers (python3 extracts them).",
        "set -euo pipefail",
        f'BASE_URL="${{1:-${{{env_var(trace.reference)}:-http://127.0.0.1:8000}}}}"',
        'BASE_URL="${BASE_URL%/}"',
        'OUT="$(mktemp -d)"',
        "trap 'rm -rf \"$OUT\"' EXIT",
        f"LEARN_PY={shlex.quote(LEARN_PY)}",
        'learn() { python3 -c "$LEARN_PY" "$@"; }',
        "",
    ]
    held: dict[str, list[str]] = {}
    for step in steps:
        request = step["request"]
        for ref in (m.group(0) for m in REF_RE.finditer(json.dumps(request))):
            if ref not in known:
                known.add(ref)
                made_up = "unknown-" + ref[1:-1].replace(":", "-")
                lines.append(f"{_var(ref)}=${{{_var(ref)}:-{made_up}}}  # no answer showed it")
        n = step["index"]
        method, path = request["method"], request["path"]
        headers = request.get("headers") or {}
        recorded = ", ".join(f"{b} {s}" for b, s in step["status"].items())
        lines.append(f"# step {n}: {method} {path}")
        cmd = [f'curl -sS -X {method} "$BASE_URL{_shell_text(path)[1:]}']
        for name, value in headers.items():
            cmd.append(f"-H {_shell_text(f'{name}: {value}')}")
        if "json" in request:
            cmd.append("-H 'content-type: application/json'")
            cmd.append(f"--data-binary {_shell_text(_json_text(request['json'], ints))}")
        cmd.append(f'-D "$OUT/{n}.headers" -o "$OUT/{n}.body" -w "%{{http_code}}"')
        mark = "  <<< the divergence" if step["diverged"] else ""
        report = [
            f'echo "step {n}: {_dq(method)} {_dq(path)} -> $(cat "$OUT/{n}.status")'
            f'   (recorded: {_dq(recorded)}){mark}"'
        ]
        report += [
            f'{_var(ref)}=$(learn "$OUT/{n}" {shlex.quote(json.dumps(where))} '
            f"{shlex.quote(pattern)} {shlex.quote(ref)})"
            for ref, where, pattern in step["learn"]
        ]
        known.update(ref for ref, _, _ in step["learn"])
        tag = headers.get(TAG_HEADER)
        if tag:  # held at a pause point until a later release: send it in the background
            lines.append(" \\\n  ".join(cmd) + f' > "$OUT/{n}.status" &')
            lines.append(f"PID_{n}=$!")
            lines.append("sleep 0.5  # let it reach its pause point")
            held[tag] = [f'wait "$PID_{n}"', *report]
            lines.append("")
            continue
        lines.append(" \\\n  ".join(cmd) + f' > "$OUT/{n}.status"')
        lines += report
        body = request.get("json")
        if path == "/_parity/pause/release" and isinstance(body, dict) and body.get("tag") in held:
            lines += held.pop(body["tag"])
        lines.append("")
    for tag in held:  # still parked after the last step: let them go
        lines.append(
            f'curl -sS -o /dev/null -X POST "$BASE_URL{RELEASE}" '
            f"-H 'content-type: application/json' --data-binary "
            f"{shlex.quote(json.dumps({'tag': tag}))}"
        )
    if held:
        lines.append("wait")
    return "\n".join(lines) + "\n"
