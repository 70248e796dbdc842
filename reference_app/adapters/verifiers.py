"""Which token verifier an app gets (``--auth jwt|cognito``): the one place deciding it."""

from __future__ import annotations

from reference_app.adapters.auth import JwtTokens
from reference_app.adapters.clock import SystemClock
from reference_app.adapters.cognito import CognitoPool, CognitoTokens, provision_pool
from reference_app.service_layer.ports import TokenIssuer
from reference_app.settings import Settings


def cognito_pool(settings: Settings) -> CognitoPool:
    """The configured pool and client, or the app's own pool made (or reused) on the
    endpoint when none is configured."""
    if settings.cognito_user_pool_id and settings.cognito_client_id:
        return CognitoPool(
            settings.cognito_user_pool_id,
            settings.cognito_client_id,
            settings.aws_region,
            settings.endpoint_url,
        )
    if settings.cognito_user_pool_id or settings.cognito_client_id:
        raise ValueError(
            "--auth cognito needs both a user pool id and an app client id, or neither"
        )
    return provision_pool(settings.aws_region, settings.endpoint_url)


def create_tokens(settings: Settings) -> TokenIssuer:
    if settings.auth == "cognito":
        # a parity-mode app's clock is manual; Cognito's tokens live on the real one
        expiry_clock = SystemClock() if settings.parity_mode else None
        return CognitoTokens(
            cognito_pool(settings), settings.admin_token, expiry_clock, settings.namespace
        )
    return JwtTokens(settings.secret, settings.admin_token)
