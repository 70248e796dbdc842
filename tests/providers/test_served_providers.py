"""Black-box: ``python -m reference_app --auth cognito --config ssm`` served for real,
its tokens issued by moto's Cognito pool and its tier limits read from moto's SSM."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest

from parity.targets.http import free_port
from reference_app.ssm_config import put_parameters, ssm_client


@pytest.fixture
def served(moto_url: str) -> Iterator[str]:
    prefix = f"/served-{uuid.uuid4().hex[:8]}"
    put_parameters(ssm_client("us-east-1", moto_url), prefix, {"high_limit_cents": 4321_00})
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFERENCE_APP_")}
    argv = ["--auth", "cognito", "--config", "ssm", "--ssm-prefix", prefix]
    argv += ["--endpoint-url", moto_url, "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "reference_app", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                assert proc.stderr is not None
                pytest.fail(f"python -m reference_app exited: {proc.stderr.read()[-500:]!r}")
            try:
                if httpx.get(f"{url}/health/readiness", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("python -m reference_app never became ready")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_cognito_tokens_and_ssm_limits_over_http(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as api:
        user = api.post("/v1/users", json={"name": "Ada", "email": "ada@x.io", "score": 750})
        assert user.status_code == 201
        token = user.json()["access_token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert jwt.get_unverified_header(token)["alg"] == "RS256"
        assert claims["iss"].startswith("https://cognito-idp.us-east-1.amazonaws.com/")
        assert claims["token_use"] == "id" and claims["cognito:username"] == user.json()["id"]
        auth = {"Authorization": f"Bearer {token}"}
        assert api.get("/v1/users/me", headers=auth).json()["id"] == user.json()["id"]
        assert api.get("/v1/users/me", headers={"Authorization": "Bearer x"}).status_code == 401
        card_request = api.post("/v1/card-requests", headers={**auth, "Idempotency-Key": "k"})
        card = api.get(f"/v1/cards/{card_request.json()['card_id']}", headers=auth)
        assert card.json()["credit_limit_cents"] == 4321_00  # the SSM parameter, not 3000_00


def test_a_bad_ssm_value_is_one_line_and_exit_2(moto_url: str) -> None:
    prefix = f"/bad-{uuid.uuid4().hex[:8]}"
    put_parameters(ssm_client("us-east-1", moto_url), prefix, {"mid_tier_from": "many"})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reference_app",
            "--config",
            "ssm",
            "--ssm-prefix",
            prefix,
            "--endpoint-url",
            moto_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"reference_app: SSM {prefix}/mid_tier_from: 'many' is not a valid int"
    ]


def test_an_unreachable_cognito_endpoint_is_one_line_and_exit_2() -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env["AWS_MAX_ATTEMPTS"] = "1"  # the message, not botocore's ~10 s of retry back-off
    nowhere = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "reference_app", "--auth", "cognito", "--endpoint-url", nowhere],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("reference_app: cannot start the memory backend with cognito auth:")
