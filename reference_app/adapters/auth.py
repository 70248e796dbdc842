"""Bearer tokens: HS256 JWTs for users, plus an optional static admin token."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import jwt

from reference_app.domain import errors
from reference_app.domain.model import Role
from reference_app.service_layer.ports import Principal

ISSUER = "reference-app"


def admin_principal(token: str, admin_token: str | None) -> Principal | None:
    """The admin, when ``token`` is the configured static admin token (every verifier
    accepts it, so operators and the parity harness reach admin routes the same way)."""
    if admin_token and hmac.compare_digest(token, admin_token):
        return Principal("admin", Role.ADMIN)
    return None


class JwtTokens:
    def __init__(
        self,
        secret: str,
        admin_token: str | None = None,
        lifetime: timedelta = timedelta(days=30),
    ) -> None:
        # HS256 wants a 256-bit key; derive one so any configured secret is strong enough.
        self._secret = hashlib.sha256(b"jwt:" + secret.encode()).hexdigest()
        self._admin_token = admin_token
        self._lifetime = lifetime

    def issue(self, user_id: str, now: datetime, role: Role = Role.USER) -> str:
        claims = {
            "iss": ISSUER,
            "sub": user_id,
            "role": role.value,
            "iat": int(now.timestamp()),
            "exp": int((now + self._lifetime).timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str, now: datetime) -> Principal:
        admin = admin_principal(token, self._admin_token)
        if admin is not None:
            return admin
        try:
            # Expiry is checked against the injected clock, not the wall clock.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"verify_exp": False, "require": ["sub", "exp", "role"]},
            )
        except jwt.PyJWTError as exc:
            raise errors.Unauthenticated("invalid bearer token") from exc
        if int(claims["exp"]) <= int(now.timestamp()):
            raise errors.Unauthenticated("bearer token expired")
        try:
            role = Role(claims["role"])
        except ValueError as exc:
            raise errors.Unauthenticated("invalid bearer token") from exc
        return Principal(str(claims["sub"]), role)
