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

from parity.binding import AppBinding, BindingError
from parity.config import ConfigError, ParityConfig, load_binding
from parity.diff.options import DiffOptions
from parity.engines.base import Engine, EngineUnavailable
from parity.engines.capabilities import probe_capabilities
from parity.engines.registry import (
    ENGINES,
    canonical,
    create_engine,
    load_entry_points,
    register_engine,
)
from parity.selftest.registry import PREFIX, fault_builder
from parity.targets.factory import AppTargetFactory, TargetFactory, UrlTargetFactory

#: engines a default run uses when they work here. dynamodb@moto needs no server either,
#: but at ~40 ms per DynamoDB call (moto's own cost) it turns a two-minute default run
#: into a half-hour one; ask for it with ``--backends memory,sqlite,dynamodb@moto``.
SERVERLESS = ("memory", "sqlite")


class InfraError(RuntimeError):
    """The run cannot start or continue for reasons outside the code under test."""


def ensure_registered(name: str, config: ParityConfig) -> None:
    """Planted faults (``fault:<name>``) exist once the app's selftest module is imported."""
    if name.startswith(PREFIX) and config.selftest:
        load_faults(config)


def load_faults(config: ParityConfig) -> None:
    if not config.selftest:
        return
    try:
        importlib.import_module(config.selftest)
    except ImportError as exc:
        raise ConfigError(f"selftest {config.selftest!r}: cannot import it ({exc})") from exc


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


def engine_status(config: ParityConfig) -> list[tuple[str, bool, str]]:
    """(name, available, why not) for every registered engine (``parity backends``)."""
    load_faults(config)
    for name, spec in config.engines.items():
        register_engine(name, spec)
    load_entry_points()
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
    #: (binding, engine) pairs whose store was prepared: released before the engine stops
    prepared: list[tuple[AppBinding, Engine]] = field(default_factory=list)
    #: what counts as a difference on these backends (the run's [tool.parity.diff])
    diff: DiffOptions = field(default_factory=DiffOptions)

    @property
    def names(self) -> list[str]:
        return list(self.factories)

    @property
    def binding(self) -> AppBinding | None:
        return self.prepared[0][0] if self.prepared else None

    def close(self) -> None:
        for factory in self.factories.values():
            factory.close()
        for binding, engine in self.prepared:
            with contextlib.suppress(Exception):  # teardown must not hide the verdict
                binding.release_store(engine.store())
        self.prepared.clear()
        for engine in self.engines.values():
            with contextlib.suppress(Exception):
                engine.stop()


def provision(
    names: Iterable[str],
    config: ParityConfig,
    seed: int,
    transport: str = "asgi",
    binding: AppBinding | None = None,
) -> Backends:
    """Start every engine (the reference first), prepare its store with the app
    binding, and make one target factory per backend."""
    names = list(dict.fromkeys(names))
    reference = canonical(config.reference)
    if reference not in names:
        names.insert(0, reference)
    names.sort(key=lambda n: n != reference)
    backends = Backends(reference, diff=config.diff)
    try:
        for name, spec in config.engines.items():
            register_engine(name, spec)
        for name in names:
            if name in config.urls:
                server = config.urls[name]
                backends.factories[name] = UrlTargetFactory(name, server.url, server.reset)
                backends.info[name] = {"name": name, "kind": "url", "version": server.url}
                continue
            if binding is None:
                binding = load_binding(config.app)
            ensure_registered(name, config)
            engine = create_engine(name)
            engine.seed = seed
            engine.start()
            backends.engines[name] = engine
            capabilities = probe_capabilities(engine)  # before the scenarios rely on them
            backends.prepared.append((binding, engine))
            binding.prepare_store(engine.store())
            info = engine.info()
            backends.info[name] = {
                "name": info.name,
                "kind": info.kind,
                "version": info.version,
                "details": info.details,
                "unsupported": {**info.unsupported, **engine.unsupported},
                "capabilities": capabilities,
            }
            backends.factories[name] = AppTargetFactory(
                name, engine, binding, transport, build=fault_builder(engine, binding)
            )
    except EngineUnavailable as exc:
        backends.close()
        raise InfraError(f"engine {exc.engine} is not available: {exc.reason}") from exc
    except (ConfigError, BindingError) as exc:
        backends.close()
        raise InfraError(str(exc)) from exc
    except Exception as exc:
        backends.close()
        raise InfraError(f"could not start backends: {type(exc).__name__}: {exc}") from exc
    return backends


def app_record(backends: Backends, config: ParityConfig) -> dict[str, Any]:
    """What a trace records about the app under test and the configuration."""
    binding = backends.binding
    return {
        "binding": binding.describe() if binding is not None else {"name": "urls"},
        "config": config.describe(),
    }
