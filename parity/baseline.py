"""Accepted divergences: ``fixtures/baseline.yaml``.

A known difference (say, a backend that cannot store sub-second timestamps) should not
fail every run forever, nor be silenced forever. Each entry names what it matches, why it
is accepted and until when. Matching and unexpired → "known"; expired → it fails again,
and the report says which entry expired.

.. code-block:: yaml

    accepted:
      - id: dynalite-no-ttl
        match: {scenario: ledger, backend: "dynamodb@dynalite", path: "body.items*"}
        reason: dynalite never expires items
        expires: 2026-09-30
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

MATCH_KEYS = ("scenario", "backend", "path", "contains")


class BaselineError(ValueError):
    """The baseline file is malformed (a user error: exit 2, one line)."""


@dataclass(frozen=True)
class Entry:
    id: str
    reason: str
    expires: date
    match: dict[str, str] = field(default_factory=dict)

    def matches(self, scenario: str, backend: str, paths: list[str], diff: str) -> bool:
        m = self.match
        if "scenario" in m and not fnmatch.fnmatchcase(scenario, m["scenario"]):
            return False
        if "backend" in m and not fnmatch.fnmatchcase(backend, m["backend"]):
            return False
        if "path" in m and not any(fnmatch.fnmatchcase(p, m["path"]) for p in paths):
            return False
        return not ("contains" in m and m["contains"] not in diff)

    def expired(self, today: date) -> bool:
        return today > self.expires


@dataclass(frozen=True)
class Verdict:
    """``known`` is the id of an unexpired entry that accepts the divergence;
    ``expired`` the id of a matching entry whose acceptance has run out."""

    known: str | None = None
    expired: str | None = None


@dataclass
class Baseline:
    entries: list[Entry] = field(default_factory=list)

    def judge(
        self,
        scenario: str,
        backend: str,
        paths: list[str],
        diff: str,
        today: date | None = None,
    ) -> Verdict:
        today = today or date.today()
        expired: str | None = None
        for entry in self.entries:
            if entry.matches(scenario, backend, paths, diff):
                if not entry.expired(today):
                    return Verdict(known=entry.id)
                expired = expired or entry.id
        return Verdict(expired=expired)


def _entry(raw: Any, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: each entry must be a mapping")
    missing = [k for k in ("id", "reason", "expires", "match") if k not in raw]
    if missing:
        raise BaselineError(f"{where}: entry {raw.get('id', '?')!r} lacks {', '.join(missing)}")
    expires = raw["expires"]
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError as exc:
            raise BaselineError(f"{where}: {raw['id']}: expires must be YYYY-MM-DD") from exc
    if not isinstance(expires, date):
        raise BaselineError(f"{where}: {raw['id']}: expires must be YYYY-MM-DD")
    match = raw["match"]
    if not isinstance(match, dict) or not match or set(match) - set(MATCH_KEYS):
        raise BaselineError(f"{where}: {raw['id']}: match must use some of {', '.join(MATCH_KEYS)}")
    return Entry(str(raw["id"]), str(raw["reason"]), expires, {k: str(v) for k, v in match.items()})


def load_baseline(path: Path) -> Baseline:
    """An absent file is an empty baseline; a malformed one is a :class:`BaselineError`."""
    if not path.exists():
        return Baseline()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise BaselineError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise BaselineError(f"{path}: expected a mapping with an 'accepted' list")
    raw = data.get("accepted") or []
    if not isinstance(raw, list):
        raise BaselineError(f"{path}: 'accepted' must be a list")
    entries = [_entry(item, str(path)) for item in raw]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise BaselineError(f"{path}: entry ids must be unique")
    return Baseline(entries)
