"""``[tool.parity]`` in pyproject.toml: what app to test, which backends, where reports go.

A user points Parity at their own app with ``app = "mypkg.parity:binding"`` (an
:class:`parity.AppBinding`, or a plain function taking a :class:`parity.Store` and
returning an ASGI app) or at running servers with ``[tool.parity.urls]``. Every key, its
default and its meaning: ``docs/configuration.md``. This module is the one place that
decides each default.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from parity.binding import AppBinding, BindingError, as_binding
from parity.diff.options import DiffConfigError, DiffOptions

SUITES = ("scenarios", "contract", "ports", "all")


class ConfigError(ValueError):
    """A configuration mistake: reported in one line, exit code 2."""


@dataclass(frozen=True)
class Profile:
    """A named set of ``parity run`` options, chosen with ``--profile NAME`` (or
    ``PARITY_PROFILE``). Options given on the command line win over the profile's; what
    neither sets comes from ``[tool.parity]``. Why profiles: CI, a nightly job and a
    laptop want different engines and depths of the same suites, and the choice belongs
    in the repository, next to the code, not in each job's shell script."""

    name: str
    backends: tuple[str, ...] | None = None
    suite: str | None = None
    scenarios: tuple[str, ...] | None = None
    examples: int | None = None
    steps: int | None = None
    shrink_examples: int | None = None
    #: scenario name -> at most this many examples (see ParityConfig.scenario_max_examples)
    scenario_max_examples: tuple[tuple[str, int], ...] | None = None

    @classmethod
    def parse(cls, name: str, table: Any, where: str) -> Profile:
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [tool.parity.profiles.{name}] must be a table")
        known = {f for f in cls.__dataclass_fields__ if f != "name"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"{where}: unknown keys in profile {name!r}: {', '.join(unknown)}"
                f" (known: {', '.join(sorted(known))})"
            )
        values: dict[str, Any] = {}
        for key in ("backends", "scenarios"):
            if key in table:
                names = table[key]
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise ConfigError(f"{where}: profile {name!r}: {key} must be a list of names")
                values[key] = tuple(names)
        for key in ("examples", "steps", "shrink_examples"):
            if key in table:
                values[key] = positive(table[key], f"{where}: profile {name!r}: {key}")
        if "scenario_max_examples" in table:
            caps = scenario_caps(table["scenario_max_examples"], f"{where}: profile {name!r}")
            values["scenario_max_examples"] = tuple(caps.items())
        if "suite" in table:
            if table["suite"] not in SUITES:
                raise ConfigError(
                    f"{where}: profile {name!r}: suite must be one of {', '.join(SUITES)}"
                )
            values["suite"] = table["suite"]
        return cls(name=name, **values)


@dataclass(frozen=True)
class UrlBackend:
    """A server someone else runs (``[tool.parity.urls]``). ``reset`` is a request
    (``"POST /_test/reset"``) that empties it between examples; without one, stateful
    scenarios are refused (their examples would see each other's data)."""

    url: str
    reset: str | None = None

    @classmethod
    def parse(cls, name: str, value: Any, where: str) -> UrlBackend:
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, dict) and isinstance(value.get("url"), str):
            extra = sorted(set(value) - {"url", "reset"})
            reset = value.get("reset")
            if extra or (reset is not None and not _is_request_line(reset)):
                raise ConfigError(
                    f"{where}: [tool.parity.urls] {name}: keys are url and reset "
                    '(reset = "METHOD /path")'
                )
            return cls(value["url"], reset)
        raise ConfigError(
            f'{where}: [tool.parity.urls] {name} must be "http://..." or '
            '{ url = "http://...", reset = "POST /path" }'
        )


def _is_request_line(value: Any) -> bool:
    parts = value.split() if isinstance(value, str) else []
    return len(parts) == 2 and parts[0].isalpha() and parts[1].startswith("/")


@dataclass(frozen=True)
class ParityConfig:
    #: the app binding, "module:attribute" (an AppBinding or a plain app factory)
    app: str = ""
    reference: str = "memory"
    backends: tuple[str, ...] = ()  # empty: every engine that needs no server
    report_dir: Path = Path("reports")
    baseline: Path = Path("fixtures/baseline.yaml")
    regressions: Path = Path("fixtures/regressions")
    scenarios: str = "scenarios"  # package whose modules register lockstep scenarios
    #: package whose modules register port scenarios (``--suite ports``); "" means
    #: ``<scenarios>.ports``
    ports: str = ""
    #: a module whose import registers planted faults for ``parity selftest`` ("" = none)
    selftest: str = ""
    urls: dict[str, UrlBackend] = field(default_factory=dict)  # backend name -> server
    #: engine name -> "module:Class" (third-party engines, beside entry points)
    engines: dict[str, str] = field(default_factory=dict)
    #: ``[tool.parity.diff]``: what counts as a difference (parity.diff.options)
    diff: DiffOptions = field(default_factory=DiffOptions)
    #: ``[tool.parity.contract]``, validated by the contract suite
    contract: dict[str, Any] = field(default_factory=dict)
    examples: int = 50  # per scenario: a default run takes about two minutes
    steps: int = 30  # stateful steps per example
    #: examples Hypothesis may spend shrinking a scenario's divergence before Parity's
    #: replay minimizer takes the shortest it has; ``None``: until Hypothesis is done
    #: (see parity.lockstep.session.LockstepSession.shrink_examples)
    shrink_examples: int | None = None
    #: scenario name -> at most this many examples, whatever ``examples`` says: for a
    #: scenario whose every example is a long history (hundreds of calls), which reaches
    #: every documented path in a fraction of the examples a short one needs. The report
    #: shows each scenario's own count.
    scenario_max_examples: dict[str, int] = field(default_factory=dict)
    #: named sets of ``parity run`` options (``[tool.parity.profiles.ci]``): see Profile
    profiles: dict[str, Profile] = field(default_factory=dict)
    root: Path = Path(".")
    #: the pyproject.toml this came from (None: defaults)
    source: Path | None = None

    def profile(self, name: str) -> Profile:
        """The profile called ``name``; a :class:`ConfigError` naming the known ones."""
        if name not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none defined"
            raise ConfigError(f"unknown profile {name!r} (known: {known})")
        return self.profiles[name]

    @property
    def ports_package(self) -> str:
        """Where port scenarios live: ``ports``, else the scenarios package's ``ports``."""
        return self.ports or f"{self.scenarios}.ports"

    def with_overrides(self, **changes: Any) -> ParityConfig:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def describe(self) -> dict[str, Any]:
        """What a trace records of the configuration it ran with."""
        return {
            "app": self.app,
            "reference": self.reference,
            "scenarios": self.scenarios,
            "diff": self.diff.to_dict(),
            "pyproject": str(self.source) if self.source else None,
        }


def find_pyproject(start: Path) -> Path | None:
    for directory in [start, *start.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None, start: Path | None = None) -> ParityConfig:
    """Read ``[tool.parity]``; no pyproject or no section means the defaults."""
    path = path or find_pyproject(start or Path.cwd())
    if path is None:
        return ParityConfig()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from exc
    section = data.get("tool", {}).get("parity", {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.parity] must be a table")
    root = path.parent
    known = {f for f in ParityConfig.__dataclass_fields__ if f != "root"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown [tool.parity] keys: {', '.join(unknown)}")
    values: dict[str, Any] = dict(section)
    for key in ("report_dir", "baseline", "regressions"):
        if key in values:
            values[key] = root / str(values[key])
        else:
            values[key] = root / getattr(ParityConfig, key)
    profiles = values.pop("profiles", {})
    if not isinstance(profiles, dict):
        raise ConfigError(f"{path}: [tool.parity.profiles] must be a table of tables")
    values["profiles"] = {n: Profile.parse(n, t, str(path)) for n, t in profiles.items()}
    if "backends" in values:
        if not isinstance(values["backends"], list):
            raise ConfigError(f"{path}: [tool.parity] backends must be a list of names")
        values["backends"] = tuple(values["backends"])
    for key in ("examples", "steps", "shrink_examples"):
        if key in values:
            positive(values[key], f"{path}: [tool.parity] {key}")
    if "scenario_max_examples" in values:
        values["scenario_max_examples"] = scenario_caps(
            values["scenario_max_examples"], f"{path}: [tool.parity]"
        )
    for key in ("engines", "contract", "urls"):
        if not isinstance(values.get(key, {}), dict):
            raise ConfigError(f"{path}: [tool.parity.{key}] must be a table")
    try:
        values["diff"] = DiffOptions.from_table(
            values.get("diff", {}), f"{path} [tool.parity.diff]"
        )
    except DiffConfigError as exc:
        raise ConfigError(str(exc)) from exc
    values["urls"] = {
        n: UrlBackend.parse(n, v, str(path)) for n, v in values.get("urls", {}).items()
    }
    for name, spec in values.get("engines", {}).items():
        if not isinstance(spec, str) or ":" not in spec:
            raise ConfigError(
                f"{path}: [tool.parity.engines] {name} must be 'package.module:EngineClass'"
            )
    _importable(root)
    return ParityConfig(root=root, source=path, **values)


def scenario_caps(table: Any, where: str) -> dict[str, int]:
    """``scenario_max_examples``: a table of scenario names to positive integers."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: scenario_max_examples must be a table (name = count)")
    for name, count in table.items():
        positive(count, f"{where}: scenario_max_examples.{name}")
    return dict(table)


def positive(value: Any, what: str) -> int:
    """``value`` if it is a positive integer (not a bool); else one line naming ``what``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{what} must be a positive integer")
    return value


def _importable(root: Path) -> None:
    """The project's own packages (its app, binding, scenarios) import from its root, as
    under pytest: a console script does not put the working directory on sys.path."""
    text = str(root.resolve())
    if text not in sys.path:
        sys.path.insert(0, text)


def load_binding(spec: str) -> AppBinding:
    """``"module:attribute"`` → the app binding; a clear :class:`ConfigError` otherwise."""
    if not spec:
        raise ConfigError(
            "no app to test: set [tool.parity] app = 'package.module:binding_or_factory' "
            "in pyproject.toml (see docs/your-app.md)"
        )
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"app {spec!r} must look like 'package.module:attribute'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"app {spec!r}: cannot import {module_name} ({exc})") from exc
    obj = getattr(module, attr, None)
    if obj is None:
        raise ConfigError(f"app {spec!r}: {module_name} has no attribute {attr!r}")
    try:
        return as_binding(obj, spec)
    except BindingError as exc:
        raise ConfigError(str(exc)) from exc
