"""A moto server for the provider tests: Cognito and SSM live on the same endpoint the
``dynamodb@moto`` engine serves (moto answers every AWS service on one port)."""

from __future__ import annotations

import pytest

from tests.engine_pool import engine_or_skip

MOTO = "dynamodb@moto"


@pytest.fixture
def moto_url() -> str:
    url = engine_or_skip(MOTO).store().url
    assert url is not None
    return url
