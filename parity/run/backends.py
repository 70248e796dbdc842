"""From engine names to started engines and one target factory per backend.

Everything that can go wrong here is an infrastructure error (:class:`InfraError`,
exit 2): an unknown or unreachable engine, an app factory that will not import.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from parity.config import ConfigError, ParityConfig, load_app_factory
from parity.engines.base import Engine, EngineUnavailable
from parity.engines.registry import ENGINES, canonical, create_engine
from parity.targets.factory import AppTargetFactory, TargetFactory, UrlTargetFactory

#: engines a default run uses when they work here. dynamodb@moto needs no server either,
#: but at ~40 ms per DynamoDB call (moto's own cost) it turns a two-minute default run
#: into a half-hour one; ask for it with ``--backends memory,sqlite,dynamodb@moto``.
SERVERLESS = ("memory", "sqlite")
#: engine-name prefixes provided by optional parts of Parity, imported on first use
PLUGIN_PREFIXES = {"fault:": "parity.selftest.faults"}


class InfraError(RuntimeError):
    """The run cannot start or continue for reasons outside the code under test."""


def ensure_registered(name: str) -> None:
    for prefix, module in PLUGIN_PREFIXES.items():
        if name.startswith(prefix):
            importlib.import_module(module)


def default_backends() -> list[str]:
    """memory and sqlite, plus every other serverless engine that probes OK here."""
    names = []
    for name in SERVERLESS:
        try:
            engine = create_engine(name)
            if engine.probe() is None:
                names.append(name)
        except EngineUnavailable:
            continue
    return names


def parse_backends(text: str) -> list[str]:
    names = [canonical(n.strip()) for n in text.split(",") if n.strip()]
    if not names:
        raise ConfigError("--backends needs at least one engine name")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"--backends names {', '.join(dupes)} more than once")
    return names


def engine_status() -> list[tuple[str, bool, str]]:
    """(name, available, why not) for every registered engine (``parity backends``)."""
    ensure_registered("fault:")
    out = []
    for name in ENGINES:
        try:
            reason = create_engine(name).probe()
        except EngineUnavailable as exc:
            reason = exc.reason
        except Exception as exc:  # a broken driver is reported, not raised
            reason = f"{type(exc).__name__}: {exc}"
        out.append((name, reason is None, reason or ""))
    return out


@dataclass
class Backends:
    """Started engines and their target factories, reference first."""

    reference: str
    engines: dict[str, Engine] = field(default_factory=dict)
    factories: dict[str, TargetFactory] = field(default_factory=dict)
    info: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.factories)

    def close(self) -> None:
        for factory in self.factories.values():
            factory.close()
        for engine in self.engines.values():
            with contextlib.suppress(Exception):  # teardown must not hide the verdict
                engine.stop()


def provision(
    names: Iterable[str],
    config: ParityConfig,
    overrides: dict[str, Any],
    transport: str = "asgi",
) -> Backends:
    names = list(dict.fromkeys(names))
    reference = canonical(config.reference)
    if reference not in names:
        names.insert(0, reference)
    names.sort(key=lambda n: n != reference)
    backends = Backends(reference)
    try:
        factory = None
        for name in names:
            if name in config.urls:
                backends.factories[name] = UrlTargetFactory(name, config.urls[name])
                backends.info[name] = {"name": name, "backend": "url", "version": config.urls[name]}
                continue
            ensure_registered(name)
            engine = create_engine(name)
            engine.start()
            backends.engines[name] = engine
            info = engine.info()
            backends.info[name] = {
                "name": info.name,
                "backend": info.backend,
                "version": info.version,
                "details": info.details,
                "unsupported": {**info.unsupported, **engine.unsupported},
            }
            if factory is None:
                factory = load_app_factory(config.app)
            backends.factories[name] = AppTargetFactory(name, engine, factory, overrides, transport)
    except EngineUnavailable as exc:
        backends.close()
        raise InfraError(f"engine {exc.engine} is not available: {exc.reason}") from exc
    except ConfigError as exc:
        backends.close()
        raise InfraError(str(exc)) from exc
    except Exception as exc:
        backends.close()
        raise InfraError(f"could not start backends: {type(exc).__name__}: {exc}") from exc
    return backends
