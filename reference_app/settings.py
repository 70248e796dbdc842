"""Settings for one app instance: every field has a CLI flag and an environment variable.

Kept as a plain dataclass (no framework) so tests and the harness build them directly.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from reference_app.domain.rules import MAX_SCORE, CreditPolicy

BACKENDS = ("memory", "sqlite", "postgres", "mysql", "dynamodb", "firestore")
TRANSPORTS = ("memory", "sqs", "eventbridge")
#: who verifies bearer tokens: the app's own HS256 JWTs, or an Amazon Cognito user pool
AUTHS = ("jwt", "cognito")
#: where the tunables (:data:`TUNABLES`) come from besides the built-in defaults
CONFIG_SOURCES = ("env", "ssm")
#: the configuration a remote source may set: limits, thresholds, TTLs, retries, secrets
#: (where the app runs — backend, endpoints, host — stays with flags and the environment)
TUNABLES = (
    "secret",
    "admin_token",
    "idempotency_ttl_seconds",
    "idempotency_inflight_timeout_seconds",
    "max_conflict_retries",
    "outbox_max_attempts",
    "outbox_base_delay_seconds",
    "outbox_max_delay_seconds",
    "low_limit_cents",
    "mid_limit_cents",
    "high_limit_cents",
    "mid_tier_from",
    "high_tier_from",
)
#: tunables that are secrets: a remote source must keep them encrypted (SecureString)
SECRETS = ("secret", "admin_token")


class InvalidSetting(ValueError):
    """One bad configuration value. ``name`` and ``problem`` are the same whichever
    source gave the value (so sources can be compared); ``origin`` says where it came
    from (``REFERENCE_APP_X=…``, an SSM parameter) for the one-line error."""

    def __init__(self, name: str, problem: str, origin: str = "") -> None:
        super().__init__(f"{origin}: {problem}" if origin else problem)
        self.name = name
        self.problem = problem
        self.origin = origin


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
    low_limit_cents: int = CreditPolicy.low_limit_cents
    mid_limit_cents: int = CreditPolicy.mid_limit_cents
    high_limit_cents: int = CreditPolicy.high_limit_cents
    mid_tier_from: int = CreditPolicy.mid_tier_from
    high_tier_from: int = CreditPolicy.high_tier_from
    auth: str = "jwt"
    cognito_user_pool_id: str | None = None  # None: provision (or reuse) one at start
    cognito_client_id: str | None = None
    config_source: str = "env"
    ssm_prefix: str = "/reference-app"
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
        if self.auth not in AUTHS:
            raise ValueError(f"unknown auth {self.auth!r}; choose one of {AUTHS}")
        if self.config_source not in CONFIG_SOURCES:
            raise ValueError(
                f"unknown config source {self.config_source!r}; choose one of {CONFIG_SOURCES}"
            )
        _check_tunables(self)

    def credit_policy(self) -> CreditPolicy:
        return CreditPolicy(
            low_limit_cents=self.low_limit_cents,
            mid_limit_cents=self.mid_limit_cents,
            high_limit_cents=self.high_limit_cents,
            mid_tier_from=self.mid_tier_from,
            high_tier_from=self.high_tier_from,
        )

    def tunables(self) -> dict[str, object]:
        """The effective configuration a source decides (what two sources must agree on)."""
        return {name: getattr(self, name) for name in TUNABLES}

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        layers: tuple[Mapping[str, object], ...] = (),
        **overrides: object,
    ) -> Settings:
        """Read ``REFERENCE_APP_<FIELD>`` (and ``AWS_ENDPOINT_URL``, ``AWS_REGION``,
        ``FIRESTORE_EMULATOR_HOST``, ``GOOGLE_CLOUD_PROJECT``); then ``layers`` (coerced
        values from another source, e.g. SSM) and ``overrides`` (flags) win in turn."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"REFERENCE_APP_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = coerce(f.name, raw, f"REFERENCE_APP_{f.name.upper()}")
        if "endpoint_url" not in values and env.get("AWS_ENDPOINT_URL"):
            values["endpoint_url"] = env["AWS_ENDPOINT_URL"]
        if "aws_region" not in values and (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
            values["aws_region"] = env.get("AWS_REGION") or env["AWS_DEFAULT_REGION"]
        if "firestore_emulator_host" not in values and env.get("FIRESTORE_EMULATOR_HOST"):
            values["firestore_emulator_host"] = env["FIRESTORE_EMULATOR_HOST"]
        if "firestore_project" not in values and env.get("GOOGLE_CLOUD_PROJECT"):
            values["firestore_project"] = env["GOOGLE_CLOUD_PROJECT"]
        for layer in layers:
            values.update(layer)
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


_TYPES = {f.name: str(f.type) for f in fields(Settings)}


def coerce(name: str, raw: str, origin: str) -> object:
    """``raw`` (text from any source) as the type of setting ``name``."""
    text = _TYPES[name]
    try:
        if text.startswith("bool"):
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if text.startswith("int"):
            return int(raw)
        if text.startswith("float"):
            return float(raw)
    except ValueError as exc:
        raise InvalidSetting(name, f"{raw!r} is not a valid {text}", origin) from exc
    return raw


def _check_tunables(s: Settings) -> None:
    """Rules every source's values obey (so a bad value fails the same way anywhere)."""
    positive = (
        "idempotency_ttl_seconds",
        "idempotency_inflight_timeout_seconds",
        "outbox_max_attempts",
        "outbox_base_delay_seconds",
        "outbox_max_delay_seconds",
        "low_limit_cents",
    )
    for name in positive:
        if getattr(s, name) <= 0:
            raise InvalidSetting(name, f"{name} must be positive, not {getattr(s, name)}")
    if s.max_conflict_retries < 0:
        raise InvalidSetting("max_conflict_retries", "max_conflict_retries must not be negative")
    if s.outbox_base_delay_seconds > s.outbox_max_delay_seconds:
        raise InvalidSetting(
            "outbox_max_delay_seconds",
            "outbox_max_delay_seconds must not be below outbox_base_delay_seconds",
        )
    if not s.low_limit_cents <= s.mid_limit_cents <= s.high_limit_cents:
        raise InvalidSetting(
            "mid_limit_cents", "tier limits must grow: low <= mid <= high limit_cents"
        )
    if not 0 < s.mid_tier_from < s.high_tier_from <= MAX_SCORE:
        raise InvalidSetting(
            "high_tier_from",
            f"tier thresholds must satisfy 0 < mid_tier_from < high_tier_from <= {MAX_SCORE}",
        )
