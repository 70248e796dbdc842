"""Engine name → class, imported lazily so optional drivers stay optional."""

from __future__ import annotations

import importlib

from parity.engines.base import Engine, EngineUnavailable

# name -> "module:Class"
ENGINES: dict[str, str] = {
    "memory": "parity.engines.embedded:MemoryEngine",
    "sqlite": "parity.engines.embedded:SqliteEngine",
    "postgres@local": "parity.engines.postgres:LocalPostgresEngine",
    "postgres@docker": "parity.engines.postgres:DockerPostgresEngine",
    "postgres@url": "parity.engines.postgres:UrlPostgresEngine",
    "dynamodb@moto": "parity.engines.dynamodb:MotoEngine",
    "dynamodb@moto-server": "parity.engines.dynamodb:MotoServerEngine",
    "dynamodb@dynalite": "parity.engines.dynamodb:DynaliteEngine",
    "dynamodb@localstack": "parity.engines.dynamodb:LocalStackEngine",
    "dynamodb@url": "parity.engines.dynamodb:UrlDynamoDbEngine",
    "dynamodb@aws": "parity.engines.dynamodb:AwsDynamoDbEngine",
}

# Short names users may type.
ALIASES: dict[str, str] = {
    "postgres": "postgres@local",
    "dynamodb": "dynamodb@moto",
}


# "Best available" names: the first engine, in order, whose probe passes here. ``tox -e
# aws`` uses dynamodb@best: an explicit PARITY_DYNAMODB_URL (e.g. a CI LocalStack service),
# else LocalStack via testcontainers when Docker and a token are present, else moto-server.
PREFERENCES: dict[str, tuple[str, ...]] = {
    "dynamodb@best": ("dynamodb@url", "dynamodb@localstack", "dynamodb@moto-server"),
    "postgres@best": ("postgres@url", "postgres@local", "postgres@docker"),
}


def canonical(name: str) -> str:
    """Resolve aliases and ``@best`` preferences to one concrete engine name."""
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


def engine_class(name: str) -> type[Engine]:
    name = ALIASES.get(name, name)
    if name in PREFERENCES:
        name = canonical(name)
    target = ENGINES.get(name)
    if target is None:
        known = ", ".join(sorted(ENGINES))
        raise EngineUnavailable(name, f"unknown engine; known engines: {known}")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineUnavailable(name, f"cannot import its driver ({exc})") from exc
    cls: type[Engine] = getattr(module, class_name)
    return cls


def create_engine(name: str) -> Engine:
    return engine_class(name)()
