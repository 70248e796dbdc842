"""Loading an app's contract and its schemathesis config: ``[tool.parity.contract]``.

- ``schema`` — a path to the OpenAPI document (relative to the pyproject), or ``"app"``
  (the default): the reference backend's app's own ``openapi()`` (FastAPI, Starlette
  with a schema, …), so an app with no committed document still gets a contract run.
- ``config`` — a schemathesis config file (the one its standalone CLI reads), or none.

Per-operation ``Authorization`` headers in the config (``${TOKEN}`` placeholders for the
CLI) mark those operations admin-only: the harness sends them with the binding's
``auth_headers(..., role="admin")`` instead, so the file needs no environment variable.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.schemas import BaseSchema

#: ``schema = "app"``: ask the app for its OpenAPI document
FROM_APP = "app"
CONTRACT_KEYS = ("schema", "config")


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


def load_contract(schema: Path | dict[str, Any], config_path: Path | None = None) -> Contract:
    """The contract from a document path or an already-loaded document (a dict)."""
    data: dict[str, Any] = {}
    if config_path is not None:
        try:
            data = tomllib.loads(config_path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ContractConfigError(f"{config_path}: cannot read ({exc})") from exc
    data, admin = _split_auth(data)
    try:
        config = schemathesis.Config.from_dict(data)
        if isinstance(schema, dict):
            loaded = schemathesis.openapi.from_dict(schema, config=config)
        else:
            loaded = schemathesis.openapi.from_path(str(schema), config=config)
    except FileNotFoundError as exc:
        raise ContractConfigError(f"{schema}: no such contract") from exc
    except Exception as exc:
        raise ContractConfigError(f"cannot load the contract: {type(exc).__name__}: {exc}") from exc
    return Contract(loaded, frozenset(admin))


def contract_sources(table: dict[str, Any], root: Path) -> tuple[str | Path, Path | None]:
    """``[tool.parity.contract]`` → (schema path or FROM_APP, config path or None)."""
    unknown = sorted(set(table) - set(CONTRACT_KEYS))
    if unknown:
        raise ContractConfigError(
            f"unknown [tool.parity.contract] keys: {', '.join(unknown)} "
            f"(known: {', '.join(CONTRACT_KEYS)})"
        )
    for key in CONTRACT_KEYS:
        if key in table and not isinstance(table[key], str):
            raise ContractConfigError(f"[tool.parity.contract] {key} must be a string")
    schema = table.get("schema", FROM_APP)
    config = table.get("config")
    return (schema if schema == FROM_APP else root / schema), (root / config if config else None)


def app_schema(app: Any) -> dict[str, Any]:
    """The OpenAPI document an ASGI app serves itself (``app.openapi()``)."""
    openapi = getattr(app, "openapi", None)
    if not callable(openapi):
        raise ContractConfigError(
            "[tool.parity.contract] schema = 'app', but the app has no openapi() method: "
            "set schema = 'path/to/openapi.yaml'"
        )
    document = openapi()
    if not isinstance(document, dict):
        raise ContractConfigError("the app's openapi() did not return a document (a dict)")
    return document


def operation_id(operation: Any) -> str:
    return str(operation.definition.raw.get("operationId", ""))
