"""``[tool.parity]`` in pyproject.toml: what app to test, which backends, where reports go.

A user points Parity at their own app with ``app = "mypkg.main:create_app"`` (a function
taking the engine's settings and returning an ASGI app) or at running servers with
``[tool.parity.urls] name = "http://..."``.
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from parity.targets.factory import AppFactory

DEFAULT_APP = "reference_app.bootstrap:create_app"
#: one JWT/cursor secret for every backend, so tokens and cursors are comparable
DEFAULT_SECRET = "parity-shared-secret-do-not-use-in-production"
DEFAULT_ADMIN_TOKEN = "parity-admin"
SUITES = ("scenarios", "contract", "all")


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
        for key in ("examples", "steps"):
            if key in table:
                number = table[key]
                if not isinstance(number, int) or isinstance(number, bool) or number < 1:
                    raise ConfigError(
                        f"{where}: profile {name!r}: {key} must be a positive integer"
                    )
                values[key] = number
        if "suite" in table:
            if table["suite"] not in SUITES:
                raise ConfigError(
                    f"{where}: profile {name!r}: suite must be one of {', '.join(SUITES)}"
                )
            values["suite"] = table["suite"]
        return cls(name=name, **values)


@dataclass(frozen=True)
class ParityConfig:
    app: str = DEFAULT_APP
    reference: str = "memory"
    backends: tuple[str, ...] = ()  # empty: every engine that needs no server
    report_dir: Path = Path("reports")
    baseline: Path = Path("fixtures/baseline.yaml")
    regressions: Path = Path("fixtures/regressions")
    scenarios: str = "scenarios"  # package whose modules register lockstep scenarios
    urls: dict[str, str] = field(default_factory=dict)  # backend name -> base URL
    secret: str = DEFAULT_SECRET
    admin_token: str = DEFAULT_ADMIN_TOKEN
    examples: int = 50  # per scenario: a default run takes about two minutes
    steps: int = 30  # stateful steps per example
    #: named sets of ``parity run`` options (``[tool.parity.profiles.ci]``): see Profile
    profiles: dict[str, Profile] = field(default_factory=dict)
    root: Path = Path(".")

    def profile(self, name: str) -> Profile:
        """The profile called ``name``; a :class:`ConfigError` naming the known ones."""
        if name not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none defined"
            raise ConfigError(f"unknown profile {name!r} (known: {known})")
        return self.profiles[name]

    def with_overrides(self, **changes: Any) -> ParityConfig:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def app_overrides(self, seed: int | None) -> dict[str, Any]:
        """Settings every backend's app gets in a parity run (identical everywhere)."""
        return {
            "parity_mode": True,
            "id_seed": 0 if seed is None else seed,
            "admin_token": self.admin_token,
            "secret": self.secret,
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
    return ParityConfig(root=root, **values)


def load_app_factory(spec: str) -> AppFactory:
    """``"module:function"`` → the function; a clear :class:`ConfigError` otherwise."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"app {spec!r} must look like 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"app {spec!r}: cannot import {module_name} ({exc})") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ConfigError(f"app {spec!r}: {module_name} has no callable {attr!r}")
    return factory  # type: ignore[no-any-return]
