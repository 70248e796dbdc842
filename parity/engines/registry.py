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


def canonical(name: str) -> str:
    return ALIASES.get(name, name)


def engine_class(name: str) -> type[Engine]:
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
