"""Shared test wiring: the engines every API test runs on."""

from __future__ import annotations

import os
import warnings

import pytest

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


#: what runs the nightly tier: every ``slow`` test too (see :func:`pytest_collection_modifyitems`)
SLOW_ENV = "PARITY_SLOW"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``slow`` tests are the nightly tier: they skip, with the reason, unless
    ``PARITY_SLOW=1`` is set or ``-m slow`` asks for them.

    Why a tier: the per-push suite runs beside ``parity run --profile ci`` on 2 cores and
    both must fit CI's budget. A ``slow`` test is one whose proof is already made on every
    push by a cheaper sibling and that costs a minute or more on a loaded machine: the
    deepest catches (a 104-call shrink, the TTL catches), a full selftest fault list.
    The one place that decides it; ``tox -e nightly`` runs everything.
    """
    if os.environ.get(SLOW_ENV) or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason=f"slow (the nightly tier): set {SLOW_ENV}=1 or run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session: object, exitstatus: int) -> None:
    stop_all()
