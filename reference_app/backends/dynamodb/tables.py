"""Provisioning of the ledger table: create if absent, wait until active, enable TTL.

Why here, in the app: the same code runs when the app starts against an empty endpoint,
when the harness's engines provision an emulator, and from LocalStack's init scripts
(``python -m reference_app.backends.dynamodb.tables --endpoint-url ...``), so the table
an emulator has is by construction the table production has.
"""

from __future__ import annotations

import argparse
import logging
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reference_app.service_layer.unit_of_work import BackendUnavailable
from reference_app.settings import Settings

log = logging.getLogger(__name__)

TTL_ATTRIBUTE = "ttl"
_ensured: set[tuple[str | None, str, str]] = set()
_ensured_lock = threading.Lock()


def table_name(table_prefix: str) -> str:
    return f"{table_prefix}-ledger"


def table_definition(name: str) -> dict[str, Any]:
    """One table, string ``pk``/``sk``, on-demand capacity, no GSI (see DYNAMODB.md)."""
    return {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def ensure_table(client: Any, name: str, *, wait_delay: float = 1.0) -> bool:
    """Create ``name`` if absent and enable TTL on it; return whether it was created.

    Idempotent and race-safe: a concurrent creator's ``ResourceInUseException`` counts as
    success. TTL that the endpoint does not implement (dynalite) is logged, not fatal:
    expiry is decided by the service, TTL only reclaims space.
    """
    created = False
    try:
        client.describe_table(TableName=name)
    except ClientError as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
        try:
            client.create_table(**table_definition(name))
            created = True
        except ClientError as create_exc:
            if _code(create_exc) != "ResourceInUseException":
                raise
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": wait_delay, "MaxAttempts": 120}
    )
    enable_ttl(client, name)
    return created


def enable_ttl(client: Any, name: str) -> bool:
    """Enable TTL on ``ttl``; ``False`` when the endpoint has no TTL support."""
    try:
        current = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
            return True
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
        return True
    except ClientError as exc:
        if _code(exc) in {"UnknownOperationException", "ValidationException"}:
            log.warning("TTL not available on this endpoint (%s): %s", _code(exc), exc)
            return False
        raise


def ensure_tables_for(settings: Settings, client: Any | None = None) -> str:
    """Provision the table of ``settings`` once per process; return its name."""
    name = table_name(settings.table_prefix)
    marker = (settings.endpoint_url, settings.aws_region, name)
    with _ensured_lock:
        if marker in _ensured:
            return name
    if client is None:
        from reference_app.backends.dynamodb.session import make_client

        client = make_client("dynamodb", settings)
    try:
        ensure_table(client, name, wait_delay=0.2 if settings.endpoint_url else 2.0)
    except (BotoCoreError, ClientError) as exc:
        if isinstance(exc, ClientError) and _code(exc) not in {"ServiceUnavailable"}:
            raise
        raise BackendUnavailable(f"cannot provision {name}: {exc}") from exc
    with _ensured_lock:
        _ensured.add(marker)
    return name


def delete_table(client: Any, name: str) -> None:
    """Delete ``name`` if present and wait until it is gone (AWS engine cleanup)."""
    try:
        client.delete_table(TableName=name)
    except ClientError as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
        return
    client.get_waiter("table_not_exists").wait(
        TableName=name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
    )
    with _ensured_lock:
        _ensured.difference_update({m for m in _ensured if m[2] == name})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create the ledger's DynamoDB table.")
    parser.add_argument("--endpoint-url", default=None)
    parser.add_argument("--region", default=None)
    parser.add_argument("--table-prefix", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    settings = Settings.from_env(
        backend="dynamodb",
        endpoint_url=args.endpoint_url,
        aws_region=args.region,
        table_prefix=args.table_prefix,
    )
    name = ensure_tables_for(settings)
    print(f"table {name} ready")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
