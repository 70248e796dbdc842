"""Shared test wiring: the engines every API test runs on."""

from __future__ import annotations

import os
import warnings

from tests.engine_pool import stop_all

# Emulators only: dummy credentials, never a real AWS endpoint.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

warnings.filterwarnings("ignore", message=".*httpx2.*")

#: The API suite runs on each of these; an absent one skips with its reason.
API_ENGINES = [
    "memory",
    "sqlite",
    "postgres@local",
    "mysql@local",
    "dynamodb@moto",
    "dynamodb@moto-server",
]


def pytest_sessionfinish(session: object, exitstatus: int) -> None:
    stop_all()
