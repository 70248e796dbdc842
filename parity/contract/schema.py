"""Loading the committed contract and its schemathesis config for the harness.

The same ``schemathesis.toml`` drives the standalone CLI. Its per-operation
``Authorization`` headers (admin-only operations, ``${PARITY_ADMIN_TOKEN}``) are for the
CLI; the harness reads which operations they name and sends its own admin token there,
so the file needs no environment variable here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.schemas import BaseSchema

HERE = Path(__file__).resolve().parent
DEFAULT_CONFIG = HERE / "schemathesis.toml"
DEFAULT_SCHEMA = HERE.parent.parent / "reference_app" / "openapi.yaml"


class ContractConfigError(ValueError):
    """The contract or its config cannot be loaded (a user mistake: exit 2)."""


@dataclass(frozen=True)
class Contract:
    schema: BaseSchema
    admin_operations: frozenset[str]


def _split_auth(data: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    admin: set[str] = set()
    kept = []
    for op in data.get("operations", []):
        op = dict(op)
        headers = op.pop("headers", None) or {}
        if any(k.lower() == "authorization" for k in headers):
            ids = op.get("include-operation-id", [])
            admin.update([ids] if isinstance(ids, str) else ids)
        if any(not k.startswith(("include-", "exclude-")) for k in op):
            kept.append(op)
    return {**data, "operations": kept}, admin


def load_contract(schema_path: Path | None = None, config_path: Path | None = None) -> Contract:
    schema_path = schema_path or DEFAULT_SCHEMA
    config_path = config_path or DEFAULT_CONFIG
    try:
        data = tomllib.loads(config_path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ContractConfigError(f"{config_path}: cannot read ({exc})") from exc
    data, admin = _split_auth(data)
    try:
        config = schemathesis.Config.from_dict(data)
        schema = schemathesis.openapi.from_path(str(schema_path), config=config)
    except FileNotFoundError as exc:
        raise ContractConfigError(f"{schema_path}: no such contract") from exc
    except Exception as exc:
        raise ContractConfigError(f"cannot load the contract: {type(exc).__name__}: {exc}") from exc
    return Contract(schema, frozenset(admin))


def operation_id(operation: Any) -> str:
    return str(operation.definition.raw.get("operationId", ""))
