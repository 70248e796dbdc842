"""``python -m reference_app``: serve the API with uvicorn.

Every flag falls back to an environment variable (``REFERENCE_APP_BACKEND``, ...,
``AWS_ENDPOINT_URL``); a bad value is one clear line and exit code 2.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from reference_app.settings import AUTHS, BACKENDS, CONFIG_SOURCES, TRANSPORTS, Settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m reference_app", description=__doc__)
    p.add_argument("--backend", choices=BACKENDS, help="storage (REFERENCE_APP_BACKEND)")
    p.add_argument(
        "--database-url",
        help="sqlite:///file.db, postgresql://… or mysql://… (REFERENCE_APP_DATABASE_URL)",
    )
    p.add_argument(
        "--endpoint-url",
        help="DynamoDB/SQS endpoint override (AWS_ENDPOINT_URL); "
        "omit it to use real AWS through the default credential chain",
    )
    p.add_argument(
        "--transport", choices=TRANSPORTS, help="outbox transport (REFERENCE_APP_TRANSPORT)"
    )
    p.add_argument(
        "--auth",
        choices=AUTHS,
        help="token verifier: the app's own JWTs, or a Cognito user pool on --endpoint-url "
        "or AWS (REFERENCE_APP_AUTH, default jwt)",
    )
    p.add_argument(
        "--cognito-user-pool-id",
        help="with --auth cognito: the pool; omit it and --cognito-client-id to make "
        "(or reuse) the app's own pool (REFERENCE_APP_COGNITO_USER_POOL_ID)",
    )
    p.add_argument(
        "--cognito-client-id", help="the pool's app client (REFERENCE_APP_COGNITO_CLIENT_ID)"
    )
    p.add_argument(
        "--config",
        choices=CONFIG_SOURCES,
        dest="config_source",
        help="where limits, thresholds, TTLs and secrets come from besides the defaults: "
        "the environment, or SSM Parameter Store under --ssm-prefix "
        "(REFERENCE_APP_CONFIG_SOURCE, default env)",
    )
    p.add_argument(
        "--ssm-prefix", help="SSM path prefix (REFERENCE_APP_SSM_PREFIX, default /reference-app)"
    )
    p.add_argument("--host", help="bind address (REFERENCE_APP_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (REFERENCE_APP_PORT, default 8000)")
    p.add_argument(
        "--relay-interval",
        type=float,
        dest="relay_interval_seconds",
        help="seconds between outbox relay runs; 0 disables "
        "(REFERENCE_APP_RELAY_INTERVAL_SECONDS, default 1)",
    )
    p.add_argument(
        "--parity-mode",
        action="store_true",
        default=None,
        help="manual clock, seeded ids, /_parity control router (loopback only)",
    )
    p.add_argument("--log-level", default="info")
    return p


def _fail(message: str) -> NoReturn:
    """A user mistake: one line on stderr and exit code 2, like argparse."""
    print(f"reference_app: {message}", file=sys.stderr)
    raise SystemExit(2)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_from_args(argv: Sequence[str] | None = None) -> tuple[Settings, str]:
    args = _parser().parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if k != "log_level" and v is not None}
    if "REFERENCE_APP_RELAY_INTERVAL_SECONDS" not in os.environ:
        overrides.setdefault("relay_interval_seconds", 1.0)  # a server relays by default
    from botocore.exceptions import BotoCoreError, ClientError

    from reference_app.ssm_config import settings_with_ssm

    try:
        settings = settings_with_ssm(**overrides)
    except (ValueError, TypeError) as exc:
        _fail(str(exc))
    except (BotoCoreError, ClientError) as exc:
        _fail(f"cannot read the SSM parameters: {exc}")
    if settings.parity_mode and not _is_loopback(settings.host):
        _fail(
            f"--parity-mode exposes test controls; it binds to loopback only, not {settings.host}"
        )
    return settings, args.log_level


def main(argv: Sequence[str] | None = None) -> int:
    settings, log_level = settings_from_args(argv)
    import uvicorn

    from reference_app.bootstrap import create_app

    try:
        app = create_app(settings)
    except Exception as exc:  # a store we cannot reach or configure: one line, exit 2
        where = f"the {settings.backend} backend with {settings.auth} auth"
        print(f"reference_app: cannot start {where}: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
