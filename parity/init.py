"""``parity init``: a starter binding, scenario and ``[tool.parity]`` for a project.

Writes three things next to the project's ``pyproject.toml`` (never over an existing
file, never into an existing ``[tool.parity]``):

- ``parity_binding.py`` — the app binding: a plain factory that builds the app on the
  store an engine hands it, with every optional hook listed (commented) beside it;
- ``parity_scenarios/`` — one starter scenario for a CRUD resource (create, read, list,
  delete) that runs as written against a typical JSON API and is meant to be edited;
- ``[tool.parity]`` appended to ``pyproject.toml`` (created when missing).

Then ``parity run`` works: on SQLite files of its own vs a second store of the user's
choice (``--backends``), every example isolated by the engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from parity.config import ConfigError


@dataclass(frozen=True)
class InitOptions:
    directory: Path
    app: str  # "package.module:factory" taking a database URL (or nothing)
    resource: str = "/items"
    backends: tuple[str, ...] = ("sqlite", "postgres@local")


BINDING = '''"""Parity's binding of {app}: how a store an engine provisions becomes the app.

Written by `parity init`; see docs/your-app.md in Parity for every hook.
"""

from __future__ import annotations

from typing import Any

from parity import AppBinding, Store
from {module} import {factory}


class Binding(AppBinding):
    name = "{name}"
    # "engine" (default): every example gets a store of its own (a SQLite file, a
    # PostgreSQL schema in the URL's search_path), removed afterwards.
    isolation = "engine"

    def build_app(self, store: Store) -> Any:
        url = store.url or "sqlite://"
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return {factory}(url)

    # Optional hooks (defaults do nothing):
    # def prepare_store(self, store: Store) -> None: ...      # once per engine: tables
    # def release_store(self, store: Store) -> None: ...      # once per engine stop
    # def auth_headers(self, call, store, role) -> dict: ...  # contract suite sign-in
    # isolation = "app" + drop_namespace(app, store) + rebind(app, store) -> bool


binding = Binding()
'''

SCENARIO = '''"""A starter lockstep scenario for {resource}: every call goes to every backend, and
the answers must match the reference backend's. Edit the bodies to your schema."""

from __future__ import annotations

from hypothesis import strategies as st

from parity import Bundle, LockstepMachine, consumes, register, rule


@register
class {cls}(LockstepMachine):
    scenario = "{slug}"
    created = Bundle("created")

    @rule(target=created, name=st.text(min_size=1, max_size=20))
    def create(self, name: str) -> str:
        response = self.call("POST", "{resource}", json={{"name": name}})
        body = response.json()
        return str(body.get("id", "")) if isinstance(body, dict) else ""

    @rule(ident=created)
    def read(self, ident: str) -> None:
        self.call("GET", f"{resource}/{{ident}}")

    @rule()
    def listing(self) -> None:
        self.call("GET", "{resource}")

    @rule(ident=consumes(created))
    def delete(self, ident: str) -> None:
        self.call("DELETE", f"{resource}/{{ident}}")
'''

CONFIG = """
[tool.parity]
app = "parity_binding:binding"
scenarios = "parity_scenarios"
reference = "{reference}"
backends = [{backends}]

[tool.parity.diff]
# integer ids: each backend's own numbers map to the same references
ids = ["integer", "uuid", "prefixed-ulid"]
"""


def run_init(options: InitOptions) -> list[Path]:
    """Write the starter files; :class:`ConfigError` (exit 2) on anything in the way."""
    module, sep, factory = options.app.partition(":")
    if not sep or not module or not factory.isidentifier():
        raise ConfigError(f"--app {options.app!r} must look like 'package.module:factory'")
    if not options.resource.startswith("/"):
        raise ConfigError(f"--resource {options.resource!r} must be a path like /items")
    root = options.directory
    pyproject = root / "pyproject.toml"
    if pyproject.exists() and re.search(r"^\[tool\.parity\]", pyproject.read_text(), re.M):
        raise ConfigError(f"{pyproject} already has a [tool.parity] section: nothing written")
    binding = root / "parity_binding.py"
    package = root / "parity_scenarios"
    for path in (binding, package):
        if path.exists():
            raise ConfigError(f"{path} already exists: nothing written")
    slug = options.resource.strip("/").replace("/", "_") or "root"
    cls = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]", slug) if part)
    binding.write_text(BINDING.format(app=options.app, module=module, factory=factory, name=module))
    package.mkdir()
    (package / "__init__.py").write_text('"""Lockstep scenarios run by `parity run`."""\n')
    scenario = package / f"{slug}.py"
    scenario.write_text(SCENARIO.format(resource=options.resource, cls=f"{cls}Scenario", slug=slug))
    names = ", ".join(f'"{n}"' for n in options.backends)
    with pyproject.open("a") as out:
        out.write(CONFIG.format(reference=options.backends[0], backends=names))
    return [binding, package / "__init__.py", scenario, pyproject]
