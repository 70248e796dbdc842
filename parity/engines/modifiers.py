"""Engine modifiers: ``<engine>+<modifier>[=<value>]…`` runs an engine with faults
injected or its store configured the hostile way.

``dynamodb@moto-server+throttle`` is ``dynamodb@moto-server`` behind a proxy that throttles;
``postgres@local+tz=Pacific/Chatham`` is the same throwaway cluster in another time zone;
modifiers combine (``dynamodb@moto-server+throttle=0.3+stale+latency=40``). The modified
engine is an engine like any other: ``--backends memory,postgres@local+hostile``. Faults
are decided from the run's seed (:mod:`parity.engines.dice`), so a replay meets the same
ones. Which modifiers each engine family takes, and how each is injected, is in
``docs/engine-faults.md``; this table is the one place that decides names, defaults and
where each applies.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from parity.binding import Store
from parity.engines.base import Engine, EngineInfo, EngineUnavailable

SEPARATOR = "+"


# --- values ----------------------------------------------------------------------------


def _rate(text: str) -> float:
    """A share of requests: ``0.2`` or ``20%``, above 0 and at most 1."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a share (use e.g. 0.2 or 20%)") from None
    if not 0 < value <= 1:
        raise ValueError(f"{text!r} must be above 0 and at most 1 (or 100%)")
    return value


def _millis(text: str) -> float:
    """A duration in milliseconds: ``40`` or ``40ms``."""
    try:
        value = float(text.removesuffix("ms"))
    except ValueError:
        raise ValueError(f"{text!r} is not a duration in milliseconds (use e.g. 40ms)") from None
    if not 0 < value <= 10_000:
        raise ValueError(f"{text!r} must be above 0 and at most 10000 ms")
    return value


def _zone(text: str) -> str:
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not an IANA time zone (e.g. Pacific/Chatham)") from None
    return text


def _pattern(regex: str, what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not re.fullmatch(regex, text):
            raise ValueError(f"{text!r} is not {what}")
        return text

    return check


def _journal(text: str) -> str:
    if text.lower() != "wal":
        raise ValueError(
            f"{text!r}: only 'wal' (the one journal mode a database file keeps for every "
            "connection; the others are per connection, so the app's own choice wins)"
        )
    return "wal"


# --- the table -----------------------------------------------------------------------------


@dataclass
class Plan:
    """Everything the modifiers of one engine name ask for."""

    throttle: float = 0.0
    stale: float = 0.0
    latency_ms: float = 0.0
    ttl_lag: float = 0.0
    serialization_failures: float = 0.0
    postgres: dict[str, str] = field(default_factory=dict)
    mysql: dict[str, str] = field(default_factory=dict)
    sqlite_journal: str | None = None


@dataclass(frozen=True)
class Modifier:
    name: str
    summary: str
    #: store kinds it works on
    kinds: tuple[str, ...]
    #: the value when none is given
    default: str
    parse: Callable[[str], Any]
    apply: Callable[[Plan, Any], None]
    #: only on engines whose server Parity starts (it reconfigures or arms the server)
    owned_server: bool = False


def _set(attr: str) -> Callable[[Plan, Any], None]:
    return lambda plan, value: setattr(plan, attr, value)


def _setting(kind: str, name: str) -> Callable[[Plan, Any], None]:
    return lambda plan, value: getattr(plan, kind).__setitem__(name, value)


MODIFIERS: dict[str, Modifier] = {
    m.name: m
    for m in (
        Modifier(
            "throttle",
            "refuse a share of data requests for capacity (nothing applied)",
            ("dynamodb",),
            "0.15",
            _rate,
            _set("throttle"),
        ),
        Modifier(
            "stale",
            "answer a share of eventually consistent reads from before the last write",
            ("dynamodb",),
            "0.5",
            _rate,
            _set("stale"),
        ),
        Modifier(
            "latency",
            "delay each data request by a seeded time up to this many ms",
            ("dynamodb",),
            "25ms",
            _millis,
            _set("latency_ms"),
        ),
        Modifier(
            "ttl-lag",
            "delete a share of expired items by the app's clock, at once or late; the "
            "rest lag (still returned)",
            ("dynamodb",),
            "0.5",
            _rate,
            _set("ttl_lag"),
        ),
        Modifier(
            "serialization-failures",
            "abort a share of write transactions with SQLSTATE 40001 (MySQL: as a deadlock "
            "victim, error 1213)",
            ("postgres", "mysql"),
            "0.1",
            _rate,
            _set("serialization_failures"),
            owned_server=True,
        ),
        Modifier(
            "tz",
            "the server's TimeZone (every session inherits it)",
            ("postgres",),
            "Pacific/Chatham",
            _zone,
            _setting("postgres", "timezone"),
            owned_server=True,
        ),
        Modifier(
            "sql-mode",
            "the server's global sql_mode",
            ("mysql",),
            "ANSI_QUOTES,ONLY_FULL_GROUP_BY,STRICT_ALL_TABLES,NO_ZERO_DATE",
            _pattern(r"[A-Z_]*(,[A-Z_]+)*", "a comma-separated list of SQL modes"),
            _setting("mysql", "sql_mode"),
            owned_server=True,
        ),
        Modifier(
            "collation",
            "the server's collation (new databases default to it)",
            ("mysql",),
            "utf8mb4_unicode_ci",
            _pattern(r"utf8mb4_[a-z0-9_]+", "a utf8mb4 collation name"),
            _setting("mysql", "collation_server"),
            owned_server=True,
        ),
        Modifier(
            "journal",
            "the database file's journal mode",
            ("sqlite",),
            "wal",
            _journal,
            _set("sqlite_journal"),
        ),
        Modifier(
            "hostile",
            "every hostile setting of the engine's family (see docs/engine-faults.md)",
            ("postgres", "mysql", "sqlite"),
            "",
            str,
            lambda plan, value: None,  # expanded by parse_modifiers
        ),
    )
}


# --- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    modifier: Modifier
    text: str
    value: Any


def split(name: str) -> tuple[str, list[str]]:
    """``"postgres@local+tz=UTC+hostile"`` -> ``("postgres@local", ["tz=UTC", "hostile"])``."""
    base, *mods = name.split(SEPARATOR)
    return base, mods


def unknown_modifier(engine: str, name: str) -> EngineUnavailable:
    close = difflib.get_close_matches(name, list(MODIFIERS), n=1, cutoff=0.5)
    hint = f"did you mean '+{close[0]}'? " if close else ""
    known = ", ".join("+" + m for m in MODIFIERS)
    return EngineUnavailable(engine, f"unknown modifier '+{name}'; {hint}known modifiers: {known}")


def parse_modifiers(engine: str, kind: str, texts: list[str]) -> list[Applied]:
    """Parse and check ``texts`` for an engine of store ``kind``: one
    :class:`EngineUnavailable` line for the first mistake."""
    applied: list[Applied] = []
    seen: set[str] = set()
    for text in texts:
        name, has_value, raw = text.partition("=")
        modifier = MODIFIERS.get(name)
        if modifier is None:
            raise unknown_modifier(engine, name)
        if kind not in modifier.kinds:
            raise EngineUnavailable(
                engine,
                f"'+{name}' works on {' and '.join(modifier.kinds)} engines, not on a {kind} store",
            )
        if name == "hostile":
            if has_value:
                raise EngineUnavailable(engine, "'+hostile' takes no value")
            from parity.engines.hostile import HOSTILE

            expanded = [f"{n}={v}" for n, v in HOSTILE[kind] if n not in seen]
            applied += parse_modifiers(engine, kind, expanded)
            seen.update(n for n, _ in HOSTILE[kind])
            continue
        if name in seen:
            raise EngineUnavailable(engine, f"'+{name}' is given more than once")
        seen.add(name)
        try:
            value = modifier.parse(raw if has_value else modifier.default)
        except ValueError as exc:
            raise EngineUnavailable(engine, f"'+{name}': {exc}") from None
        applied.append(Applied(modifier, text, value))
    if not applied and not texts:
        raise EngineUnavailable(engine, "nothing after '+' (e.g. +throttle)")
    return applied


def check_name(name: str) -> None:
    """Raise :class:`EngineUnavailable` (one line) unless ``name`` is a usable engine name
    with valid modifiers; starts nothing."""
    modified_engine(name)


# --- the modified engine -------------------------------------------------------------------


class ModifiedEngine(Engine):
    """A base engine run with modifiers: settings applied after the base starts, faults
    injected in front of (or inside) its store; everything else delegated."""

    def __init__(self, name: str, base: Engine, applied: list[Applied]) -> None:
        super().__init__()
        self.name = name  # type: ignore[misc]
        self.base = base
        self.kind = base.kind  # type: ignore[misc]
        self.in_process = base.in_process  # type: ignore[misc]
        self.applied = applied
        self.plan = Plan()
        for item in applied:
            item.modifier.apply(self.plan, item.value)
        self.proxy: Any = None

    def probe(self) -> str | None:
        return self.base.probe()

    def start(self) -> None:
        self.base.seed = self.seed
        self.base.start()
        try:
            self._configure()
        except EngineUnavailable:
            self.stop()
            raise
        except Exception as exc:
            self.stop()
            raise EngineUnavailable(self.name, f"could not apply modifiers: {exc}") from exc

    def _configure(self) -> None:
        from parity.engines import hostile

        plan = self.plan
        url = self.base.store().url
        if plan.postgres:
            hostile.set_postgres(_require(self.name, url), plan.postgres)
        if plan.mysql:
            hostile.set_mysql(_require(self.name, url), plan.mysql)
        if plan.serialization_failures and self.base.kind == "mysql":
            from parity.engines import mysql_faults

            server = _require(self.name, url)
            mysql_faults.install(server)
            self.proxy = mysql_faults.DeadlockProxy(server, plan.serialization_failures, self.seed)
            self.proxy.start()
        elif plan.serialization_failures:
            from parity.engines import postgres_faults

            postgres_faults.install(
                _require(self.name, url), plan.serialization_failures, self.seed
            )
        if plan.throttle or plan.stale or plan.latency_ms or plan.ttl_lag:
            from parity.engines.dynamodb_faults import DynamoFaults, FaultProxy

            if not url or not url.startswith("http://"):
                raise EngineUnavailable(
                    self.name,
                    f"{self.base.name} has no http:// endpoint to put the fault proxy in "
                    "front of (use dynamodb@moto-server or another emulator)",
                )
            faults = DynamoFaults(plan.throttle, plan.stale, plan.latency_ms, plan.ttl_lag)
            self.proxy = FaultProxy(url, faults, self.seed)
            self.proxy.start()

    def stop(self) -> None:
        if self.proxy is not None:
            with contextlib.suppress(Exception):
                self.proxy.stop()
            self.proxy = None
        self.base.stop()

    def store(self, namespace: str = "") -> Store:
        if namespace and self.proxy is not None:
            self.proxy.new_example()
        return self._wrap(self.base.store(namespace))

    def isolated(self, namespace: str) -> Store:
        if self.proxy is not None:
            self.proxy.new_example()
        return self._wrap(self.base.isolated(namespace))

    def discard(self, store: Store) -> None:
        upstream = store.option("upstream_url")
        self.base.discard(replace(store, url=upstream) if upstream else store)

    def _wrap(self, store: Store) -> Store:
        changes: dict[str, Any] = {"engine": self.name, "seed": self.seed}
        if self.proxy is not None and store.url:
            changes["url"] = self.proxy.route(store.url)
            changes["options"] = {**store.options, "upstream_url": store.url}
        if self.plan.sqlite_journal and store.option("path"):
            from parity.engines.hostile import set_sqlite_journal

            set_sqlite_journal(str(store.option("path")), self.plan.sqlite_journal)
        return store.with_namespace(store.namespace, **changes)

    def info(self) -> EngineInfo:
        base = self.base.info()
        details: dict[str, Any] = {
            **base.details,
            "modifiers": [item.text for item in self.applied],
        }
        return EngineInfo(self.name, base.kind, base.version, details, base.unsupported)


def _require(engine: str, url: str | None) -> str:
    if not url:
        raise EngineUnavailable(engine, "the base engine hands out no URL to configure")
    return url


def modified_engine(name: str) -> Engine:
    """The engine ``name`` names, modifiers and all (validated; nothing started)."""
    from parity.engines.registry import canonical, create_engine

    base_name, texts = split(name)
    base = create_engine(canonical(base_name))
    if not texts:
        return base
    from parity.selftest.registry import FaultEngine

    if isinstance(base, FaultEngine):
        raise EngineUnavailable(
            name, "modifiers go on a planted fault's base engine (register_fault base=...)"
        )
    applied = parse_modifiers(name, base.kind, texts)
    owned = _owns_server(base)
    for item in applied:
        if item.modifier.owned_server and not owned:
            raise EngineUnavailable(
                name,
                f"'+{item.modifier.name}' reconfigures the server, so it needs one Parity "
                f"starts itself ({base.kind}@local), not {base_name}",
            )
    return ModifiedEngine(name, base, applied)


def _owns_server(engine: Engine) -> bool:
    from parity.engines.embedded import SqliteEngine
    from parity.engines.mysql import LocalMysqlEngine
    from parity.engines.postgres import LocalPostgresEngine

    return isinstance(engine, LocalPostgresEngine | LocalMysqlEngine | SqliteEngine)
