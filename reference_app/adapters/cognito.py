"""Bearer tokens issued by an Amazon Cognito user pool (or moto's, on an emulator).

The dev verifier (:class:`reference_app.adapters.auth.JwtTokens`) signs its own HS256
tokens; this one leaves issuing to Cognito and only *verifies*, the way an API behind a
user pool does: the RS256 signature against the pool's JWKS (fetched over HTTP, cached,
refetched for an unknown key id), then the issuer, the audience (the app client), the
``token_use`` (ID tokens: they carry the custom claims), the expiry and the role claim
``custom:role``. The subject is ``cognito:username``, which sign-up sets to the app's
user id, so the rest of the app cannot tell the two verifiers apart. An app on a
namespace (tests, parity examples share one pool) prefixes the username with
``{namespace}:``: seeded ids repeat across namespaces, pool usernames must not, and a
token from another namespace is not this app's.

Clocks: Cognito stamps ``iat``/``exp`` with *its* clock. In production the app's clock is
the system clock too, so expiry is checked against the ``now`` the port passes. A
parity-mode app runs on a manual clock that Cognito cannot see; comparing the two time
lines would make every token valid or expired by accident, so such an app passes
``expiry_clock=SystemClock()`` and expiry stays on Cognito's time line (the one rule the
dev verifier, which shares the manual clock, keeps differently).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from reference_app.adapters.auth import admin_principal
from reference_app.domain import errors
from reference_app.domain.model import Role
from reference_app.service_layer.ports import Clock, Principal

#: the custom attribute (``custom:role`` in the ID token) that carries the app role
ROLE_ATTRIBUTE = "role"
#: the pool and client :func:`provision_pool` makes or reuses
DEFAULT_POOL_NAME = "reference-app"


@dataclass(frozen=True)
class CognitoPool:
    """Where tokens come from: a user pool, one of its app clients, its region and an
    endpoint override (moto) or ``None`` (AWS)."""

    user_pool_id: str
    client_id: str
    region: str
    endpoint_url: str | None = None

    @property
    def issuer(self) -> str:
        """Cognito's ``iss``: always the AWS URL, also on moto (it signs like AWS)."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        base = (self.endpoint_url or f"https://cognito-idp.{self.region}.amazonaws.com").rstrip("/")
        return f"{base}/{self.user_pool_id}/.well-known/jwks.json"


def cognito_client(region: str, endpoint_url: str | None, **credentials: str) -> Any:
    """A client for the pool's endpoint; ``credentials`` (boto3 keyword names) for an
    emulator, else the default credential chain."""
    import boto3

    kwargs: dict[str, Any] = {"region_name": region, **credentials}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    return boto3.session.Session().client("cognito-idp", **kwargs)


_provisioned: dict[tuple[str, str | None, str], CognitoPool] = {}
_provision_lock = threading.Lock()


def provision_pool(
    region: str, endpoint_url: str | None, name: str = DEFAULT_POOL_NAME, **credentials: str
) -> CognitoPool:
    """The pool called ``name`` and its app client, made once (reused when they exist):
    a ``custom:role`` attribute and the admin password flow sign-up uses."""
    key = (region, endpoint_url, name)
    with _provision_lock:
        if key in _provisioned:
            return _provisioned[key]
        client = cognito_client(region, endpoint_url, **credentials)
        pools = client.list_user_pools(MaxResults=60)["UserPools"]
        pool_id = next((p["Id"] for p in pools if p["Name"] == name), None)
        if pool_id is None:
            pool_id = client.create_user_pool(
                PoolName=name,
                Schema=[{"Name": ROLE_ATTRIBUTE, "AttributeDataType": "String", "Mutable": True}],
            )["UserPool"]["Id"]
        clients = client.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)
        client_id = next(
            (c["ClientId"] for c in clients["UserPoolClients"] if c["ClientName"] == name), None
        )
        if client_id is None:
            client_id = client.create_user_pool_client(
                UserPoolId=pool_id,
                ClientName=name,
                ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            )["UserPoolClient"]["ClientId"]
        pool = CognitoPool(pool_id, client_id, region, endpoint_url)
        _provisioned[key] = pool
        return pool


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _jwks_client(url: str) -> jwt.PyJWKClient:
    """One key cache per pool for the whole process: a parity-mode app builds a new
    verifier per example, and fetching the JWKS each time would be all it did."""
    with _provision_lock:
        if url not in _jwks_clients:
            _jwks_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)
        return _jwks_clients[url]


_pool_clients: dict[tuple[str, str | None], Any] = {}


def _shared_client(region: str, endpoint_url: str | None) -> Any:
    """One Cognito client per endpoint for the whole process (boto3 clients are
    thread-safe): a parity-mode app builds a new verifier per example, and a new client
    loads botocore's service model again (~0.2 s CPU, most of an example's set-up)."""
    with _provision_lock:
        key = (region, endpoint_url)
        if key not in _pool_clients:
            _pool_clients[key] = cognito_client(region, endpoint_url)
        return _pool_clients[key]


class CognitoTokens:
    """The token port on a Cognito user pool: sign-up makes the pool user, Cognito
    issues the token, and :meth:`verify` checks it the way AWS documents."""

    token_use = "id"

    def __init__(
        self,
        pool: CognitoPool,
        admin_token: str | None = None,
        expiry_clock: Clock | None = None,
        namespace: str = "",
        client: Any = None,
    ) -> None:
        self.pool = pool
        self._prefix = f"{namespace}:" if namespace else ""
        self._admin_token = admin_token
        self._expiry_clock = expiry_clock
        self._client = client or _shared_client(pool.region, pool.endpoint_url)
        self._jwks = _jwks_client(pool.jwks_url)

    def issue(self, user_id: str, now: datetime, role: Role = Role.USER) -> str:
        """Make ``user_id`` a pool user with ``custom:role`` and sign them in (the
        password is throwaway: the app never signs in by password)."""
        password = secrets.token_urlsafe(24) + "aA1!"
        pool_id = self.pool.user_pool_id
        username = self._prefix + user_id
        self._client.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            UserAttributes=[{"Name": f"custom:{ROLE_ATTRIBUTE}", "Value": role.value}],
            MessageAction="SUPPRESS",
        )
        self._client.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=password, Permanent=True
        )
        answer = self._client.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=self.pool.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return str(answer["AuthenticationResult"]["IdToken"])

    @staticmethod
    def expired(exp: int, now: int) -> bool:
        """A token is no longer valid *at* its ``exp`` second (RFC 7519 4.1.4)."""
        return exp <= now

    def verify(self, token: str, now: datetime) -> Principal:
        admin = admin_principal(token, self._admin_token)
        if admin is not None:
            return admin
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self.pool.issuer,
                audience=self.pool.client_id,
                # expiry below, on the right clock; iat is Cognito's, never the app's
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "require": ["exp", "token_use", "cognito:username"],
                },
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise errors.Unauthenticated("invalid bearer token") from exc
        if claims["token_use"] != self.token_use:
            raise errors.Unauthenticated("invalid bearer token")
        checked_at = self._expiry_clock.now() if self._expiry_clock else now
        if self.expired(int(claims["exp"]), int(checked_at.timestamp())):
            raise errors.Unauthenticated("bearer token expired")
        try:
            role = Role(claims.get(f"custom:{ROLE_ATTRIBUTE}", ""))
        except ValueError as exc:
            raise errors.Unauthenticated("invalid bearer token") from exc
        username = str(claims["cognito:username"])
        if not username.startswith(self._prefix):
            raise errors.Unauthenticated("invalid bearer token")
        return Principal(username[len(self._prefix) :], role)
