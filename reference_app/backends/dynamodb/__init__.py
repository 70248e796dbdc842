"""DynamoDB backend (boto3): single table, one ``TransactWriteItems`` per commit.

The table design and its reasons are in ``reference_app/backends/DYNAMODB.md``.
"""

from __future__ import annotations

import logging
from typing import Any

import botocore
from botocore.exceptions import BotoCoreError, ClientError

from reference_app.backends.dynamodb import app_clock
from reference_app.backends.dynamodb.cleanup import drop_namespace
from reference_app.backends.dynamodb.codec import Keys
from reference_app.backends.dynamodb.retry import RetryPolicy
from reference_app.backends.dynamodb.session import is_loopback, shared_client
from reference_app.backends.dynamodb.tables import ensure_tables_for, table_name
from reference_app.backends.dynamodb.unit_of_work import DynamoDbUnitOfWork, Store
from reference_app.service_layer.unit_of_work import Backend, BackendUnavailable
from reference_app.settings import Settings

log = logging.getLogger(__name__)


class DynamoDbBackend(Backend):
    name = "dynamodb"
    #: what :meth:`unit_of_work` makes (a test plants a faulty one by subclassing)
    unit_of_work_class: type[DynamoDbUnitOfWork] = DynamoDbUnitOfWork

    def __init__(
        self,
        settings: Settings,
        *,
        client: Any | None = None,
        retry: RetryPolicy | None = None,
        query_page_size: int | None = None,
        provision: bool = True,
    ) -> None:
        self.settings = settings
        self.namespace = settings.namespace
        # No close(): a client passed in is the caller's, the shared one outlives any app.
        self.client = client if client is not None else shared_client("dynamodb", settings)
        app_clock.install(self.client)
        self.table = table_name(settings.table_prefix)
        self.store = Store(
            client=self.client,
            table=self.table,
            keys=Keys(settings.namespace),
            retry=retry or RetryPolicy(),
            query_page_size=query_page_size,
        )
        self._provisioned = False
        if provision:
            try:
                self._provision()
            except BackendUnavailable as exc:  # readiness reports it; start-up goes on
                log.warning("%s", exc)

    @classmethod
    def from_settings(cls, settings: Settings) -> DynamoDbBackend:
        """The app's entry point: creates the table if absent (once per process)."""
        return cls(settings)

    def _provision(self) -> None:
        ensure_tables_for(self.settings, self.client)
        self._provisioned = True

    def unit_of_work(self) -> DynamoDbUnitOfWork:
        uow = self.unit_of_work_class(self.store)
        uow.crash = self.crash
        app_clock.use(self.app_time)
        return uow

    def reopen(self) -> DynamoDbBackend:
        """The same table and key prefix through the shared client (the table exists)."""
        return type(self)(
            self.settings,
            retry=self.store.retry,
            query_page_size=self.store.query_page_size,
            provision=False,
        )

    def check_ready(self) -> None:
        """DescribeTable: reachable, credentials accepted, table present."""
        try:
            if not self._provisioned:
                self._provision()
            self.client.describe_table(TableName=self.table)
        except (BotoCoreError, ClientError) as exc:
            raise BackendUnavailable(f"DynamoDB table {self.table} not ready: {exc}") from exc

    def describe(self) -> dict[str, Any]:
        endpoint = self.settings.endpoint_url
        if endpoint is None:
            kind = "aws"
        elif is_loopback(endpoint):
            kind = "local-emulator"
        else:
            kind = "custom-endpoint"
        return {
            "backend": self.name,
            "engine": kind,
            "endpoint": endpoint or f"dynamodb.{self.settings.aws_region}.amazonaws.com",
            "region": self.settings.aws_region,
            "table": self.table,
            "namespace": self.settings.namespace,
            "version": f"botocore {botocore.__version__}",
        }

    def drop_namespace(self) -> None:
        """Delete this namespace's items (a Scan on its key prefix: see ``cleanup.py``)."""
        drop_namespace(self.store)


__all__ = ["DynamoDbBackend"]
