"""Engine name → class, imported lazily so optional drivers stay optional.

Three ways in, one table: the built-in engines below, installed packages' ``parity.engines``
entry points (``myengine = "mypkg.engines:MyEngine"``), and ``[tool.parity.engines]`` or
:func:`register_engine` at run time. A later registration of a name wins.
"""

from __future__ import annotations

import difflib
import importlib
from importlib import metadata

from parity.engines.base import Engine, EngineUnavailable

ENTRY_POINT_GROUP = "parity.engines"

# name -> "module:Class" (or the class itself, for engines registered in code)
ENGINES: dict[str, str | type[Engine]] = {
    "memory": "parity.engines.embedded:MemoryEngine",
    "sqlite": "parity.engines.embedded:SqliteEngine",
    "postgres@local": "parity.engines.postgres:LocalPostgresEngine",
    "postgres@docker": "parity.engines.postgres:DockerPostgresEngine",
    "postgres@url": "parity.engines.postgres:UrlPostgresEngine",
    "mysql@local": "parity.engines.mysql:LocalMysqlEngine",
    "mysql@url": "parity.engines.mysql:UrlMysqlEngine",
    "dynamodb@moto": "parity.engines.dynamodb:MotoEngine",
    "dynamodb@moto-server": "parity.engines.dynamodb:MotoServerEngine",
    "dynamodb@dynalite": "parity.engines.dynamodb:DynaliteEngine",
    "dynamodb@local": "parity.engines.dynamodb:DynamoDbLocalEngine",
    "dynamodb@ministack": "parity.engines.dynamodb:MinistackEngine",
    "dynamodb@localstack": "parity.engines.dynamodb:LocalStackEngine",
    "dynamodb@url": "parity.engines.dynamodb:UrlDynamoDbEngine",
    "dynamodb@aws": "parity.engines.dynamodb:AwsDynamoDbEngine",
    "firestore@emulator": "parity.engines.firestore:EmulatorFirestoreEngine",
    "firestore@url": "parity.engines.firestore:UrlFirestoreEngine",
}

# Short names users may type.
ALIASES: dict[str, str] = {
    "postgres": "postgres@local",
    "mysql": "mysql@local",
    "dynamodb": "dynamodb@moto",
    "firestore": "firestore@emulator",
}


# "Best available" names: the first engine, in order, whose probe passes here. ``tox -e
# aws`` uses dynamodb@best: an explicit PARITY_DYNAMODB_URL (e.g. a CI LocalStack service),
# else LocalStack via testcontainers when Docker and a token are present, else moto-server.
PREFERENCES: dict[str, tuple[str, ...]] = {
    "dynamodb@best": ("dynamodb@url", "dynamodb@localstack", "dynamodb@moto-server"),
    "postgres@best": ("postgres@url", "postgres@local", "postgres@docker"),
}

_entry_points_loaded = False


def register_engine(name: str, engine: str | type[Engine]) -> None:
    """Make ``name`` an engine: ``"package.module:Class"`` (imported on first use) or an
    :class:`Engine` subclass."""
    if isinstance(engine, str) and ":" not in engine:
        raise ValueError(f"engine {name!r}: {engine!r} must look like 'package.module:Class'")
    ENGINES[name] = engine


def load_entry_points() -> None:
    """Register engines that installed packages declare (once per process)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        ENGINES.setdefault(entry.name, entry.value)


def canonical(name: str) -> str:
    """Resolve aliases and ``@best`` preferences to one concrete engine name (modifiers,
    ``+throttle`` and the like, are kept: see :mod:`parity.engines.modifiers`)."""
    base, plus, modifiers = name.partition("+")
    if plus:
        return canonical(base) + plus + modifiers
    name = ALIASES.get(name, name)
    choices = PREFERENCES.get(name)
    if choices is None:
        return name
    reasons = []
    for choice in choices:
        try:
            reason = engine_class(choice)().probe()
        except EngineUnavailable as exc:
            reason = exc.reason
        if reason is None:
            return choice
        reasons.append(f"{choice}: {reason}")
    raise EngineUnavailable(name, "no engine available (" + "; ".join(reasons) + ")")


def known_names() -> list[str]:
    load_entry_points()
    return sorted({*ENGINES, *ALIASES, *PREFERENCES})


def unknown_engine(name: str) -> EngineUnavailable:
    """An error for an engine name nobody registered, with a "did you mean"."""
    close = difflib.get_close_matches(name, known_names(), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return EngineUnavailable(name, f"unknown engine; {hint}known engines: {', '.join(ENGINES)}")


def engine_class(name: str) -> type[Engine]:
    load_entry_points()
    name = ALIASES.get(name, name)
    if name in PREFERENCES:
        name = canonical(name)
    target = ENGINES.get(name)
    if target is None:
        raise unknown_engine(name)
    if not isinstance(target, str):
        return target
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineUnavailable(name, f"cannot import its driver ({exc})") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Engine)):
        raise EngineUnavailable(name, f"{target} is not an Engine subclass")
    return cls


def create_engine(name: str) -> Engine:
    """A new, unstarted engine; ``base+modifier…`` names a modified base engine."""
    if "+" in name:
        from parity.engines.modifiers import modified_engine

        return modified_engine(name)
    return engine_class(name)()


def check_name(name: str) -> None:
    """Raise :class:`EngineUnavailable` (one line, with a "did you mean") unless ``name``
    is a registered engine, alias or preference, with valid modifiers. Starts nothing."""
    load_entry_points()
    base = name.partition("+")[0]
    if base not in ENGINES and base not in ALIASES and base not in PREFERENCES:
        raise unknown_engine(base)
    if "+" in name:
        from parity.engines.modifiers import check_name as check_modifiers

        check_modifiers(name)
