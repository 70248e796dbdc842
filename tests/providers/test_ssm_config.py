"""The SSM Parameter Store source against the environment source, on moto: the same
values give the same effective configuration, the same bad value the same error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from reference_app.settings import InvalidSetting, Settings
from reference_app.ssm_config import put_parameters, settings_with_ssm, ssm_client

#: every tunable set to a non-default value (secrets included)
VALUES: dict[str, object] = {
    "secret": "s3cret-from-the-store",
    "admin_token": "ops-token",
    "idempotency_ttl_seconds": 3600,
    "idempotency_inflight_timeout_seconds": 30,
    "max_conflict_retries": 2,
    "outbox_max_attempts": 7,
    "outbox_base_delay_seconds": 0.5,
    "outbox_max_delay_seconds": 60.0,
    "low_limit_cents": 100_00,
    "mid_limit_cents": 200_00,
    "high_limit_cents": 400_00,
    "mid_tier_from": 400,
    "high_tier_from": 800,
}


def env_of(values: dict[str, object]) -> dict[str, str]:
    return {f"REFERENCE_APP_{k.upper()}": str(v) for k, v in values.items()}


def from_ssm(moto_url: str, values: dict[str, object]) -> Settings:
    prefix = f"/test-{uuid.uuid4().hex[:8]}/reference-app"
    client = ssm_client("us-east-1", moto_url)
    put_parameters(client, prefix, values)
    env = {"REFERENCE_APP_CONFIG_SOURCE": "ssm", "REFERENCE_APP_SSM_PREFIX": prefix}
    return settings_with_ssm(env, client, endpoint_url=moto_url)


def test_the_same_values_give_the_same_configuration(moto_url: str) -> None:
    ssm = from_ssm(moto_url, VALUES)
    env = Settings.from_env(env_of(VALUES))
    assert ssm.tunables() == env.tunables() == VALUES
    assert ssm.credit_policy().limit_for(850) == 400_00


def test_secrets_are_stored_encrypted(moto_url: str) -> None:
    prefix = f"/test-{uuid.uuid4().hex[:8]}"
    client = ssm_client("us-east-1", moto_url)
    put_parameters(client, prefix, {"secret": "x", "max_conflict_retries": 1})
    kinds = {p["Name"]: p["Type"] for p in client.get_parameters_by_path(Path=prefix)["Parameters"]}
    assert kinds == {f"{prefix}/secret": "SecureString", f"{prefix}/max_conflict_retries": "String"}


def test_missing_parameters_keep_the_defaults(moto_url: str) -> None:
    ssm = from_ssm(moto_url, {"max_conflict_retries": 1})
    assert ssm.max_conflict_retries == 1
    assert ssm.idempotency_ttl_seconds == Settings().idempotency_ttl_seconds


BAD: list[dict[str, Any]] = [
    {"idempotency_ttl_seconds": "soon"},
    {"idempotency_ttl_seconds": 0},
    {"outbox_base_delay_seconds": 10, "outbox_max_delay_seconds": 5},
    {"mid_limit_cents": 10_00},
    {"mid_tier_from": 900},
    {"high_tier_from": 1001},
    {"max_conflict_retries": -1},
]


@pytest.mark.parametrize("bad", BAD, ids=lambda bad: ",".join(bad))
def test_a_bad_value_fails_the_same_way_from_either_source(
    moto_url: str, bad: dict[str, Any]
) -> None:
    with pytest.raises(InvalidSetting) as from_env:
        Settings.from_env(env_of(bad))
    with pytest.raises(InvalidSetting) as from_parameters:
        from_ssm(moto_url, bad)
    assert (from_parameters.value.name, from_parameters.value.problem) == (
        from_env.value.name,
        from_env.value.problem,
    )


def test_rules_of_the_store_itself(moto_url: str) -> None:
    prefix = f"/test-{uuid.uuid4().hex[:8]}"
    client = ssm_client("us-east-1", moto_url)
    env = {"REFERENCE_APP_CONFIG_SOURCE": "ssm", "REFERENCE_APP_SSM_PREFIX": prefix}
    client.put_parameter(Name=f"{prefix}/idempotency_ttl", Value="5", Type="String")
    with pytest.raises(InvalidSetting, match="'idempotency_ttl' is not a setting"):
        settings_with_ssm(env, client)
    client.delete_parameter(Name=f"{prefix}/idempotency_ttl")
    client.put_parameter(Name=f"{prefix}/secret", Value="plain", Type="String")
    with pytest.raises(InvalidSetting, match="store it as a SecureString"):
        settings_with_ssm(env, client)


def test_with_two_bad_values_both_sources_name_the_same_one(moto_url: str) -> None:
    """Found by ConfigParity: SSM read parameters by name, the environment by field."""
    bad: dict[str, object] = {
        "idempotency_ttl_seconds": "1.5",
        "idempotency_inflight_timeout_seconds": "1.5",
    }
    with pytest.raises(InvalidSetting) as from_env:
        Settings.from_env(env_of(bad))
    with pytest.raises(InvalidSetting) as from_parameters:
        from_ssm(moto_url, bad)
    assert from_env.value.name == from_parameters.value.name == "idempotency_ttl_seconds"
