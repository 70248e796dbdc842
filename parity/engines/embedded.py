"""Engines that need no server: memory and a file-backed SQLite in a temp dir."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from parity.engines.base import Engine, EngineInfo
from reference_app.settings import Settings


class MemoryEngine(Engine):
    name = "memory"
    backend = "memory"

    def probe(self) -> str | None:
        return None

    def settings(self, namespace: str, **overrides: Any) -> Settings:
        return Settings(backend="memory", namespace=namespace, **overrides)

    def info(self) -> EngineInfo:
        return EngineInfo(self.name, self.backend, "builtin")


class SqliteEngine(Engine):
    """One database file per engine start; each namespace is its own set of tables."""

    name = "sqlite"
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self._dir: Path | None = None

    def probe(self) -> str | None:
        return None

    def start(self) -> None:
        super().start()
        self._dir = Path(tempfile.mkdtemp(prefix="parity-sqlite-"))

    def stop(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def settings(self, namespace: str, **overrides: Any) -> Settings:
        if self._dir is None:
            self.start()
        assert self._dir is not None
        url = f"sqlite:///{self._dir / 'ledger.db'}"
        return Settings(backend="sqlite", database_url=url, namespace=namespace, **overrides)

    def info(self) -> EngineInfo:
        return EngineInfo(self.name, self.backend, sqlite3.sqlite_version)
