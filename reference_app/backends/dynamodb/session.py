"""boto3 clients for the AWS adapters (DynamoDB backend, SQS and EventBridge transports).

Why one helper: the credential and endpoint rules must be identical for every AWS client
the app makes. Production (no ``endpoint_url``) uses boto3's default credential chain and
never overrides the endpoint. With an endpoint override (an emulator), a loopback endpoint
always gets dummy credentials, so real keys are never even offered to a local process; any
other override uses the default chain and falls back to dummy credentials when it is empty.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from reference_app.settings import Settings

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def is_loopback(endpoint_url: str) -> bool:
    host = urlparse(endpoint_url).hostname or ""
    return host in _LOOPBACK or host.startswith("127.")


def _has_credentials() -> bool:
    return boto3.session.Session().get_credentials() is not None


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``boto3.client``: region, endpoint override, credentials."""
    kwargs: dict[str, Any] = {"region_name": settings.aws_region}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
        # a loopback endpoint never triggers credential resolution (no IMDS probing)
        if is_loopback(settings.endpoint_url) or not _has_credentials():
            kwargs.update(DUMMY_CREDENTIALS)
    return kwargs


#: Services whose requests skip botocore's client-side parameter validation (see make_client).
_UNVALIDATED = frozenset({"dynamodb"})


def make_client(service: str, settings: Settings, *, max_pool: int = 32) -> Any:
    """A thread-safe low-level client. botocore's own retries stay small (connection
    hiccups); throttling and transaction conflicts are retried by our own policy, which
    knows which change failed.

    DynamoDB requests skip botocore's ``parameter_validation`` (botocore documents turning
    it off as a performance option): every request the adapter sends is built by its own
    code, never from raw input, and DynamoDB validates each request again anyway. It walked
    every attribute of every item: ~0.5 ms of client CPU per purchase (10 % of it,
    process_time over 350 purchases on dynamodb@moto-server, issue 16). The SQS and
    EventBridge clients keep it: one call per delivered event, not measured, not changed."""
    config = Config(
        retries={"mode": "standard", "max_attempts": 2},
        connect_timeout=3,
        read_timeout=15,
        max_pool_connections=max_pool,
        parameter_validation=service not in _UNVALIDATED,
    )
    session: Any = boto3.session.Session()
    return session.client(service, config=config, **client_kwargs(settings))


_shared: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}
_shared_lock = threading.Lock()


def shared_client(service: str, settings: Settings) -> Any:
    """One client per (service, region, endpoint, credentials) per process.

    Why: building a client costs 65-180 ms here (a new botocore session parses the
    service's model JSON again) and opens new connections, and the parity harness builds
    an app per example. Clients are thread-safe, so every app instance on the same
    endpoint shares one, and no app closes it.
    """
    key = (service, tuple(sorted(client_kwargs(settings).items())))
    with _shared_lock:
        client = _shared.get(key)
        if client is None:
            client = _shared[key] = make_client(service, settings)
        return client
