"""What a lockstep run exercised: rules, documented paths, endpoint and status, per backend.

A green run proves parity only for what it reached. A migration sign-off needs to see
that every rule ran, that every path the scenario documents (``paths = (...)`` on the
machine, marked with :meth:`LockstepMachine.reached`) was taken, and which statuses each
endpoint answered — on every backend, because a backend dropped after a divergence
stops being exercised. The session tallies it per example; the report renders it.

The tallies are plain JSON (``{name: {backend: count}}``; endpoints
``{"POST /v1/users": {backend: {"201": n}}}``), so shards and merged reports add up.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from parity.trace.model import Step

#: a normalised reference (``<id:3>``, ``<cursor:1>``) or an id-looking path segment
_REFERENCE = re.compile(r"<([a-z_]+):[^>]*>")

Tally = dict[str, dict[str, int]]


def endpoint_of(method: str, path: str) -> str:
    """``POST /v1/cards/<id:3>/transactions?limit=2`` → ``POST /v1/cards/{id}/transactions``."""
    route = path.split("?", 1)[0]
    return f"{method.upper()} {_REFERENCE.sub(lambda m: '{' + m.group(1) + '}', route)}"


def _add(tally: Tally, name: str, backends: Iterable[str], count: int = 1) -> None:
    row = tally.setdefault(name, {})
    for backend in backends:
        row[backend] = row.get(backend, 0) + count


@dataclass
class Coverage:
    """Tallies for one scenario (rules and documented paths are the scenario's own)."""

    rules: Tally = field(default_factory=dict)
    paths: Tally = field(default_factory=dict)
    #: endpoint -> backend -> status -> count
    endpoints: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def declare(self, rules: Iterable[str], paths: Iterable[str]) -> None:
        """Name every rule and documented path, so one never reached shows as 0."""
        for name in rules:
            self.rules.setdefault(name, {})
        for name in paths:
            self.paths.setdefault(name, {})

    def add_example(
        self,
        backends: Iterable[str],
        steps: Iterable[Step],
        rules: Mapping[str, int],
        paths: Mapping[str, int],
    ) -> None:
        names = list(backends)
        for rule, count in rules.items():
            _add(self.rules, rule, names, count)
        for path, count in paths.items():
            _add(self.paths, path, names, count)
        for step in steps:
            endpoint = endpoint_of(step.request.method, step.request.path)
            row = self.endpoints.setdefault(endpoint, {})
            for backend, answer in step.responses.items():
                status = str(answer.get("raw", {}).get("status", "?"))
                statuses = row.setdefault(backend, {})
                statuses[status] = statuses.get(status, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        return {"rules": self.rules, "paths": self.paths, "endpoints": self.endpoints}


def merge(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> dict[str, Any]:
    """Add two coverage dicts (two sessions of a scenario, two shards, two machines)."""
    out: dict[str, Any] = {"rules": {}, "paths": {}, "endpoints": {}}
    for part in (a or {}, b or {}):
        for kind in ("rules", "paths"):
            for name, row in (part.get(kind) or {}).items():
                target = out[kind].setdefault(name, {})
                for backend, count in row.items():
                    target[backend] = target.get(backend, 0) + int(count)
        for endpoint, row in (part.get("endpoints") or {}).items():
            target_row = out["endpoints"].setdefault(endpoint, {})
            for backend, statuses in row.items():
                counter = Counter(target_row.get(backend, {}))
                counter.update({s: int(n) for s, n in statuses.items()})
                target_row[backend] = dict(counter)
    return out


def gaps(coverage: Mapping[str, Any], backends: Iterable[str]) -> list[str]:
    """Rules and documented paths some backend never reached: ``rule near_miss (sqlite)``."""
    names = list(backends)
    out: list[str] = []
    for kind, label in (("rules", "rule"), ("paths", "path")):
        for name, row in sorted((coverage.get(kind) or {}).items()):
            missing = [b for b in names if not row.get(b)]
            if missing:
                where = "every backend" if len(missing) == len(names) else ", ".join(missing)
                out.append(f"{label} {name!r} never reached on {where}")
    return out
