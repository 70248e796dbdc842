"""The Cognito verifier's rules, on moto's user pools: what it accepts and what it refuses
(another pool, another app client, an access token, an expired token, a forged signature,
a role it does not know, another namespace's user)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from reference_app.adapters.clock import ManualClock
from reference_app.adapters.cognito import (
    CognitoPool,
    CognitoTokens,
    cognito_client,
    provision_pool,
)
from reference_app.domain import errors
from reference_app.domain.model import Role

REGION = "us-east-1"


def fresh_pool(moto_url: str) -> CognitoPool:
    return provision_pool(REGION, moto_url, name=f"test-{uuid.uuid4().hex[:8]}")


def now() -> datetime:
    return datetime.now(UTC)


def test_a_token_the_pool_issued_names_the_user_and_role(moto_url: str) -> None:
    tokens = CognitoTokens(fresh_pool(moto_url))
    user = tokens.verify(tokens.issue("usr_1", now()), now())
    admin = tokens.verify(tokens.issue("usr_2", now(), Role.ADMIN), now())
    assert (user.subject, user.role) == ("usr_1", Role.USER)
    assert (admin.subject, admin.role) == ("usr_2", Role.ADMIN)


def test_the_pool_is_made_once_and_its_keys_come_from_its_jwks_url(moto_url: str) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    pool = provision_pool(REGION, moto_url, name=name)
    assert provision_pool(REGION, moto_url, name=name) == pool
    assert pool.jwks_url == f"{moto_url}/{pool.user_pool_id}/.well-known/jwks.json"
    keys = jwt.PyJWKClient(pool.jwks_url).get_signing_keys()
    assert keys and all(k.key_type == "RSA" for k in keys)


def test_another_pool_or_client_is_refused(moto_url: str) -> None:
    pool = fresh_pool(moto_url)
    other_pool = fresh_pool(moto_url)
    other_client = cognito_client(REGION, moto_url).create_user_pool_client(
        UserPoolId=pool.user_pool_id, ClientName="other"
    )["UserPoolClient"]["ClientId"]
    token = CognitoTokens(pool).issue("usr_1", now())
    for verifier in (
        CognitoTokens(other_pool),  # issuer differs
        CognitoTokens(CognitoPool(pool.user_pool_id, other_client, REGION, moto_url)),  # aud
    ):
        with pytest.raises(errors.Unauthenticated):
            verifier.verify(token, now())


def sign_in(moto_url: str, pool: CognitoPool, username: str) -> dict[str, str]:
    """A pool user's tokens, straight from Cognito (a new password, then sign-in)."""
    client = cognito_client(REGION, moto_url)
    password = "Pw-123456aA!"
    client.admin_set_user_password(
        UserPoolId=pool.user_pool_id, Username=username, Password=password, Permanent=True
    )
    result: dict[str, str] = client.admin_initiate_auth(
        UserPoolId=pool.user_pool_id,
        ClientId=pool.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return result


def test_an_access_token_is_not_an_id_token(moto_url: str) -> None:
    pool = fresh_pool(moto_url)
    tokens = CognitoTokens(pool)
    tokens.issue("usr_1", now())
    access = sign_in(moto_url, pool, "usr_1")["AccessToken"]
    assert jwt.decode(access, options={"verify_signature": False})["token_use"] == "access"
    with pytest.raises(errors.Unauthenticated):
        tokens.verify(access, now())


def test_expiry_is_checked_on_the_expiry_clock(moto_url: str) -> None:
    clock = ManualClock(now())
    tokens = CognitoTokens(fresh_pool(moto_url), expiry_clock=clock)
    token = tokens.issue("usr_1", clock.now())
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    clock.set(datetime.fromtimestamp(exp - 1, UTC))
    assert tokens.verify(token, datetime(2000, 1, 1, tzinfo=UTC)).subject == "usr_1"
    clock.advance(1)
    with pytest.raises(errors.Unauthenticated, match="expired"):
        tokens.verify(token, datetime(2000, 1, 1, tzinfo=UTC))


def test_without_an_expiry_clock_the_ports_now_decides(moto_url: str) -> None:
    tokens = CognitoTokens(fresh_pool(moto_url))
    token = tokens.issue("usr_1", now())
    with pytest.raises(errors.Unauthenticated, match="expired"):
        tokens.verify(token, now() + timedelta(hours=2))


def test_a_forged_signature_is_refused(moto_url: str) -> None:
    tokens = CognitoTokens(fresh_pool(moto_url))
    head, body, signature = tokens.issue("usr_1", now()).split(".")
    with pytest.raises(errors.Unauthenticated):
        tokens.verify(".".join([head, body, signature[::-1]]), now())


def test_a_role_the_app_does_not_know_is_refused(moto_url: str) -> None:
    pool = fresh_pool(moto_url)
    tokens = CognitoTokens(pool)
    issued = tokens.issue("usr_1", now())
    cognito_client(REGION, moto_url).admin_update_user_attributes(
        UserPoolId=pool.user_pool_id,
        Username="usr_1",
        UserAttributes=[{"Name": "custom:role", "Value": "root"}],
    )
    assert tokens.verify(issued, now()).role == Role.USER  # a token keeps what it said
    with pytest.raises(errors.Unauthenticated):
        tokens.verify(sign_in(moto_url, pool, "usr_1")["IdToken"], now())


def test_a_namespace_only_accepts_its_own_users(moto_url: str) -> None:
    pool = fresh_pool(moto_url)
    a, b = CognitoTokens(pool, namespace="a"), CognitoTokens(pool, namespace="b")
    token_a, token_b = a.issue("usr_1", now()), b.issue("usr_1", now())  # same id, no clash
    assert a.verify(token_a, now()).subject == "usr_1"
    with pytest.raises(errors.Unauthenticated):
        a.verify(token_b, now())


def test_the_static_admin_token_still_works(moto_url: str) -> None:
    tokens = CognitoTokens(fresh_pool(moto_url), admin_token="ops")
    assert tokens.verify("ops", now()).role == Role.ADMIN
