"""Configuration from AWS Systems Manager Parameter Store (``--config ssm``).

One path prefix holds the tunables (:data:`reference_app.settings.TUNABLES`: tier limits,
thresholds, TTLs, retries, secrets), one parameter each, named after the setting:
``/reference-app/idempotency_ttl_seconds``, ``/reference-app/secret``… Values are text
and go through the same coercion and the same rules as ``REFERENCE_APP_*`` variables, so
a bad value fails with the same :class:`InvalidSetting` (same ``name`` and ``problem``)
whichever source gave it. Layering: built-in defaults, then the environment, then SSM,
then command-line flags.

Rules of the source itself: a parameter under the prefix that is not a tunable is an
error (a typo must not be silently ignored), and a secret must be a ``SecureString``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reference_app.settings import SECRETS, TUNABLES, InvalidSetting, Settings, coerce


def ssm_client(region: str, endpoint_url: str | None, **credentials: str) -> Any:
    """``credentials`` (boto3 keyword names) for an emulator, else the default chain."""
    import boto3

    kwargs: dict[str, Any] = {"region_name": region, **credentials}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    return boto3.session.Session().client("ssm", **kwargs)


def _prefix(prefix: str) -> str:
    return "/" + prefix.strip("/")


def read_parameters(client: Any, prefix: str) -> dict[str, tuple[str, str]]:
    """Every parameter under ``prefix`` (decrypted): full name -> (type, value)."""
    found: dict[str, tuple[str, str]] = {}
    pages = client.get_paginator("get_parameters_by_path").paginate(
        Path=_prefix(prefix), Recursive=True, WithDecryption=True
    )
    for page in pages:
        for parameter in page["Parameters"]:
            found[parameter["Name"]] = (parameter["Type"], parameter["Value"])
    return found


def ssm_layer(parameters: Mapping[str, tuple[str, str]], prefix: str) -> dict[str, object]:
    """The settings ``parameters`` give, coerced; raises :class:`InvalidSetting`."""
    base = _prefix(prefix) + "/"
    named = {}
    for full_name, found in sorted(parameters.items()):
        name = full_name[len(base) :] if full_name.startswith(base) else full_name
        if name not in TUNABLES:
            known = ", ".join(TUNABLES)
            raise InvalidSetting(
                name, f"{name!r} is not a setting; known: {known}", f"SSM {full_name}"
            )
        named[name] = (full_name, found)
    values: dict[str, object] = {}
    # in the order of the settings' fields, like the environment: with two bad values,
    # both sources name the same one
    for name in sorted(named, key=TUNABLES.index):
        full_name, (kind, raw) = named[name]
        origin = f"SSM {full_name}"
        if name in SECRETS and kind != "SecureString":
            raise InvalidSetting(name, f"{name} is a secret: store it as a SecureString", origin)
        values[name] = coerce(name, raw, origin)
    return values


def put_parameters(client: Any, prefix: str, values: Mapping[str, object]) -> None:
    """Write ``values`` as the source expects them (secrets as SecureString): operators'
    provisioning, and the tests'."""
    for name, value in values.items():
        client.put_parameter(
            Name=f"{_prefix(prefix)}/{name}",
            Value=str(value),
            Type="SecureString" if name in SECRETS else "String",
            Overwrite=True,
        )


def settings_with_ssm(
    env: Mapping[str, str] | None = None, client: Any = None, **overrides: Any
) -> Settings:
    """Settings from the environment and flags, with the tunables under
    ``settings.ssm_prefix`` layered between them when ``config_source`` is ``ssm``."""
    first = Settings.from_env(env, **overrides)
    if first.config_source != "ssm":
        return first
    client = client or ssm_client(first.aws_region, first.endpoint_url)
    layer = ssm_layer(read_parameters(client, first.ssm_prefix), first.ssm_prefix)
    return Settings.from_env(env, layers=(layer,), **overrides)
