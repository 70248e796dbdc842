"""Settings for one app instance: every field has a CLI flag and an environment variable.

Kept as a plain dataclass (no framework) so tests and the harness build them directly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

BACKENDS = ("memory", "sqlite", "postgres", "mysql", "dynamodb", "firestore")
TRANSPORTS = ("memory", "sqs", "eventbridge")


@dataclass(frozen=True)
class Settings:
    backend: str = "memory"
    database_url: str | None = None  # sqlite:///path.db or postgresql://...
    endpoint_url: str | None = None  # DynamoDB/SQS/EventBridge endpoint override
    aws_region: str = "us-east-1"
    firestore_project: str | None = None  # GOOGLE_CLOUD_PROJECT; the emulator takes any id
    firestore_emulator_host: str | None = None  # FIRESTORE_EMULATOR_HOST, e.g. 127.0.0.1:8080
    table_prefix: str = "ledger"  # DynamoDB table names / SQL table prefix
    namespace: str = ""  # cheap per-test isolation (key prefix, schema)
    transport: str = "memory"
    queue_url: str | None = None
    event_bus_name: str | None = None
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    admin_token: str | None = None
    idempotency_ttl_seconds: int = 24 * 3600
    idempotency_inflight_timeout_seconds: int = 60
    max_conflict_retries: int = 5
    outbox_max_attempts: int = 5
    outbox_base_delay_seconds: float = 1.0
    outbox_max_delay_seconds: float = 300.0
    event_source: str = "urn:reference-app:ledger"
    parity_mode: bool = False  # deterministic ids/clock hooks; never in production
    id_seed: int | None = None
    relay_interval_seconds: float = 0.0  # >0 runs a background relay in the server
    host: str = "127.0.0.1"
    port: int = 8000

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; choose one of {BACKENDS}")
        if self.transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {self.transport!r}; choose one of {TRANSPORTS}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``REFERENCE_APP_<FIELD>`` (and ``AWS_ENDPOINT_URL``, ``AWS_REGION``,
        ``FIRESTORE_EMULATOR_HOST``, ``GOOGLE_CLOUD_PROJECT``)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"REFERENCE_APP_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _coerce(f.type, raw, f.name)
        if "endpoint_url" not in values and env.get("AWS_ENDPOINT_URL"):
            values["endpoint_url"] = env["AWS_ENDPOINT_URL"]
        if "aws_region" not in values and (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
            values["aws_region"] = env.get("AWS_REGION") or env["AWS_DEFAULT_REGION"]
        if "firestore_emulator_host" not in values and env.get("FIRESTORE_EMULATOR_HOST"):
            values["firestore_emulator_host"] = env["FIRESTORE_EMULATOR_HOST"]
        if "firestore_project" not in values and env.get("GOOGLE_CLOUD_PROJECT"):
            values["firestore_project"] = env["GOOGLE_CLOUD_PROJECT"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def settings_to_env(settings: Settings) -> dict[str, str]:
    """The ``REFERENCE_APP_*`` variables that make :meth:`Settings.from_env` rebuild
    ``settings`` in another process (a server the harness or a benchmark starts)."""
    env = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value is not None:
            env[f"REFERENCE_APP_{f.name.upper()}"] = str(value)
    return env


def _coerce(annotation: object, raw: str, name: str) -> object:
    text = str(annotation)
    try:
        if text.startswith("bool"):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if text.startswith("int"):
            return int(raw)
        if text.startswith("float"):
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"REFERENCE_APP_{name.upper()}={raw!r} is not a valid {text}") from exc
    return raw
