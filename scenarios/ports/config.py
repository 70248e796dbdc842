"""The configuration source in lockstep: the environment (over the built-in defaults) vs
SSM Parameter Store (moto), for the tunables (limits, thresholds, TTLs, secrets).

Both sides get the same edits — set a tunable to some text, remove it — and are asked
for the effective configuration, which is either every tunable's value or the invalid
setting with its problem (compared too: the same bad value must fail the same way). The
environment side starts from a fixed base secret, so the default's randomness is not a
difference; SSM's side sees that same base environment beneath its parameters.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from typing import Any

from hypothesis import strategies as st

from parity import Implementation, PortMachine, Store, register, rule
from reference_app.settings import SECRETS, TUNABLES, InvalidSetting, Settings
from reference_app.ssm_config import (
    put_parameters,
    read_parameters,
    ssm_client,
    ssm_layer,
)

#: the environment beneath every source (a fixed secret: the default one is random)
BASE_ENV = {"REFERENCE_APP_SECRET": "port-base-secret"}


def outcome(load: Any) -> dict[str, Any]:
    """The effective tunables, or the invalid setting and its problem."""
    try:
        settings: Settings = load()
    except InvalidSetting as exc:
        return {"invalid": exc.name, "problem": exc.problem}
    return {"tunables": settings.tunables()}


class EnvConfig:
    """``REFERENCE_APP_*`` variables over the defaults (``--config env``)."""

    def __init__(self) -> None:
        self.env = dict(BASE_ENV)

    def set(self, name: str, raw: str) -> None:
        self.env[f"REFERENCE_APP_{name.upper()}"] = raw

    def remove(self, name: str) -> None:
        key = f"REFERENCE_APP_{name.upper()}"
        self.env.pop(key, None)
        if key in BASE_ENV:  # the environment beneath is still there
            self.env[key] = BASE_ENV[key]

    def load(self) -> dict[str, Any]:
        return outcome(lambda: Settings.from_env(self.env))


class SsmConfig:
    """Parameters under a prefix of the example's own (``--config ssm``)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def set(self, name: str, raw: str) -> None:
        put_parameters(self.client, self.prefix, {name: raw})

    def remove(self, name: str) -> None:
        with contextlib.suppress(self.client.exceptions.ParameterNotFound):
            self.client.delete_parameter(Name=f"{self.prefix}/{name}")

    def parameters(self) -> dict[str, tuple[str, str]]:
        return read_parameters(self.client, self.prefix)

    def load(self) -> dict[str, Any]:
        def settings() -> Settings:
            layer = ssm_layer(self.parameters(), self.prefix)
            return Settings.from_env(BASE_ENV, layers=(layer,))

        return outcome(settings)


@functools.cache
def _client(region: str, url: str | None, credentials: tuple[tuple[str, str], ...]) -> Any:
    """One client per endpoint for every example (boto3 clients are thread-safe)."""
    return ssm_client(region, url, **dict(credentials))


def ssm_config(store: Store, source: type[SsmConfig] = SsmConfig) -> SsmConfig:
    credentials = dict(store.option("credentials") or {})
    client = _client(
        str(store.option("region", "us-east-1")), store.url, tuple(credentials.items())
    )
    return source(client, f"/parity-{store.namespace or uuid.uuid4().hex[:8]}/reference-app")


#: where the parameters live (any moto endpoint serves SSM)
SSM_ENGINE = "dynamodb@moto"

names = st.sampled_from(TUNABLES)
plain_names = st.sampled_from([n for n in TUNABLES if n not in SECRETS])
numbers = st.sampled_from(
    ["0", "1", "-1", "2", "5", "60", "100", "499", "500", "700", "1000", "1001", "86400"]
)
raws = st.one_of(
    numbers,
    st.integers(-10, 400_000).map(str),
    st.sampled_from(["1.5", "abc", " 7 ", "1e3", "0x10"]),
)
secrets = st.text(alphabet="abcdefXYZ0123456789-_", min_size=1, max_size=12)


@register
class ConfigParity(PortMachine):
    """Same edits, same effective configuration (or the same InvalidSetting)."""

    port_name = "config"
    implementations = {
        "env": EnvConfig,
        "ssm": Implementation(ssm_config, engine=SSM_ENGINE, isolation="app"),
    }

    @rule(name=plain_names, raw=raws)
    def set_value(self, name: str, raw: str) -> None:
        self.port.set(name, raw)

    @rule(name=st.sampled_from(SECRETS), raw=secrets)
    def set_secret(self, name: str, raw: str) -> None:
        self.port.set(name, raw)

    @rule(name=names)
    def remove(self, name: str) -> None:
        self.port.remove(name)

    @rule()
    def load(self) -> None:
        self.port.load()
