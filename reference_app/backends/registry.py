"""Backend name → factory. Optional backends import their drivers lazily, so a machine
without boto3, psycopg or PyMySQL still runs the memory and SQLite backends."""

from __future__ import annotations

from reference_app.service_layer.unit_of_work import Backend
from reference_app.settings import Settings


def create_backend(settings: Settings) -> Backend:
    if settings.backend == "memory":
        from reference_app.backends.memory import MemoryBackend

        return MemoryBackend(settings.namespace)
    if settings.backend == "sqlite":
        from reference_app.backends.sqlite import SqliteBackend

        return SqliteBackend.from_settings(settings)
    if settings.backend == "postgres":
        from reference_app.backends.postgres import PostgresBackend

        return PostgresBackend.from_settings(settings)
    if settings.backend == "mysql":
        from reference_app.backends.mysql import MysqlBackend

        return MysqlBackend.from_settings(settings)
    if settings.backend == "dynamodb":
        from reference_app.backends.dynamodb import DynamoDbBackend

        return DynamoDbBackend.from_settings(settings)
    if settings.backend == "firestore":
        from reference_app.backends.firestore import FirestoreBackend

        return FirestoreBackend.from_settings(settings)
    raise ValueError(f"unknown backend {settings.backend!r}")
