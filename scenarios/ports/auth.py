"""The token port in lockstep: the dev JWT verifier vs the Cognito verifier (moto's pool).

Tokens themselves differ by design (HS256 from the app vs RS256 from Cognito), so the
scenario talks to a small facade whose methods take and return data: sign a user up
(the token stays inside), then ask what a verifier says about that user's token at a
given age, forged, with its role claim swapped, from a foreign issuer, or about any text.

Time: Cognito stamps ``iat``/``exp`` on its own clock, which no test can move. Asking
"is this token valid ``age`` seconds after it was issued" (issue time = the token's own
``iat``) puts both verifiers on the same footing. The dev verifier is built with
Cognito's ID-token lifetime (one hour) so expiry can be compared at the boundary.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from hypothesis import strategies as st

from parity import Bundle, Implementation, PortMachine, Store, register, rule
from reference_app.adapters.auth import JwtTokens
from reference_app.adapters.cognito import CognitoTokens, cognito_client, provision_pool
from reference_app.domain import errors
from reference_app.domain.model import Role
from reference_app.service_layer.ports import Principal

Verifier = JwtTokens | CognitoTokens

ADMIN_TOKEN = "port-admin-token"
#: Cognito's ID-token lifetime (moto's, and AWS's default)
LIFETIME = timedelta(hours=1)
#: the dev verifier's clock at sign-up (a manual clock's; Cognito uses its own)
DEV_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
USERS = ("ada", "bob")


class AlreadySignedUp(Exception):
    """The facade's own answer to a second sign-up of one name (same on every side)."""


class NotSignedUp(LookupError):
    """The facade was asked about a user it never signed up (same on every side)."""


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _with_admin_role(token: str) -> str:
    """The token with its role claim (either name) raised to admin, signature kept."""
    head, _, rest = token.partition(".")
    signature = rest.partition(".")[2]
    claims = _claims(token)
    for name in ("role", "custom:role"):
        if name in claims:
            claims[name] = Role.ADMIN.value
    return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"


class AuthPort:
    """One verifier behind data-only methods: what the API would decide per request."""

    def __init__(self, tokens: Verifier, foreign: Verifier, now: Callable[[], datetime]) -> None:
        self.tokens = tokens
        self.foreign = foreign
        self._now = now
        self._issued: dict[str, str] = {}
        self._foreign: dict[str, str] = {}

    def _token(self, user: str) -> str:
        if user not in self._issued:
            raise NotSignedUp(user)
        return self._issued[user]

    def _verdict(self, token: str, at: datetime) -> dict[str, str]:
        principal: Principal = self.tokens.verify(token, at)
        return {"subject": principal.subject, "role": principal.role.value}

    def sign_up(self, user: str, role: str) -> None:
        if user in self._issued:
            raise AlreadySignedUp(user)
        self._issued[user] = self.tokens.issue(user, self._now(), Role(role))

    def verify(self, user: str, age_seconds: int) -> dict[str, str]:
        token = self._token(user)
        issued = datetime.fromtimestamp(int(_claims(token)["iat"]), UTC)
        return self._verdict(token, issued + timedelta(seconds=age_seconds))

    def verify_forged(self, user: str) -> dict[str, str]:
        head, body, signature = self._token(user).split(".")
        return self._verdict(f"{head}.{body}.{signature[::-1]}", self._now())

    def verify_role_swapped(self, user: str) -> dict[str, str]:
        return self._verdict(_with_admin_role(self._token(user)), self._now())

    def verify_foreign(self, user: str) -> dict[str, str]:
        """A token for the same user from an issuer this app does not trust."""
        if user not in self._foreign:
            self._foreign[user] = self.foreign.issue(user, self._now())
        return self._verdict(self._foreign[user], self._now())

    def verify_text(self, text: str) -> dict[str, str]:
        return self._verdict(text, self._now())


def dev_port() -> AuthPort:
    return AuthPort(
        JwtTokens("port-dev-secret", ADMIN_TOKEN, lifetime=LIFETIME),
        JwtTokens("another-issuer-secret", lifetime=LIFETIME),
        lambda: DEV_EPOCH,
    )


@functools.cache
def _client(region: str, url: str | None, credentials: tuple[tuple[str, str], ...]) -> Any:
    """One client per endpoint for every example (boto3 clients are thread-safe and
    take longer to make than the calls an example sends)."""
    return cognito_client(region, url, **dict(credentials))


def cognito_port(store: Store, verifier: type[CognitoTokens] = CognitoTokens) -> AuthPort:
    """Cognito on the moto endpoint of ``store``; usernames under the example's
    namespace, so examples sharing the pool never meet."""
    region = str(store.option("region", "us-east-1"))
    credentials = dict(store.option("credentials") or {})
    client = _client(region, store.url, tuple(sorted(credentials.items())))
    pool = provision_pool(region, store.url, **credentials)
    other = provision_pool(region, store.url, name="reference-app-foreign", **credentials)
    ns = store.namespace
    return AuthPort(
        verifier(pool, ADMIN_TOKEN, namespace=ns, client=client),
        CognitoTokens(other, namespace=ns, client=client),
        lambda: datetime.now(UTC),
    )


#: where the Cognito pools live (any moto endpoint serves Cognito)
COGNITO_ENGINE = "dynamodb@moto"

users = st.sampled_from(USERS)
#: ages around the one-hour boundary, and far from it
ages = st.sampled_from([0, 3599, 3600, 3601, 86400])
garbage = st.one_of(
    st.sampled_from(["", "nonsense", "a.b.c", ADMIN_TOKEN, ADMIN_TOKEN + "x", "Bearer x"]),
    st.text(alphabet="abcXYZ012.-_", max_size=40),
)


@register
class AuthParity(PortMachine):
    """Same users, same questions: both verifiers must accept and refuse alike."""

    port_name = "auth"
    implementations = {
        "dev-jwt": dev_port,
        "cognito": Implementation(cognito_port, engine=COGNITO_ENGINE, isolation="app"),
    }
    errors = {
        errors.Unauthenticated: "unauthenticated",
        AlreadySignedUp: "already-signed-up",
        NotSignedUp: "not-signed-up",
    }

    signed_up = Bundle("signed_up")

    @rule(target=signed_up, user=users, role=st.sampled_from([Role.USER.value, Role.ADMIN.value]))
    def sign_up(self, user: str, role: str) -> str:
        with contextlib.suppress(AlreadySignedUp):
            self.port.sign_up(user, role)
        return user

    @rule(user=signed_up, age=ages)
    def verify(self, user: str, age: int) -> None:
        with contextlib.suppress(errors.Unauthenticated, NotSignedUp):
            self.port.verify(user, age)

    @rule(user=signed_up)
    def verify_forged(self, user: str) -> None:
        with contextlib.suppress(errors.Unauthenticated, NotSignedUp):
            self.port.verify_forged(user)

    @rule(user=signed_up)
    def verify_role_swapped(self, user: str) -> None:
        with contextlib.suppress(errors.Unauthenticated, NotSignedUp):
            self.port.verify_role_swapped(user)

    @rule(user=users)
    def verify_foreign(self, user: str) -> None:
        with contextlib.suppress(errors.Unauthenticated):
            self.port.verify_foreign(user)

    @rule(text=garbage)
    def verify_text(self, text: str) -> None:
        with contextlib.suppress(errors.Unauthenticated):
            self.port.verify_text(text)
