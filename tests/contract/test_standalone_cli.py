"""The standalone ``schemathesis run`` CLI (not the harness) passes every check against
the app served by uvicorn, on memory and on sqlite: the command the README documents."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from parity.targets.http import free_port

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
ADMIN = "contract-test-admin"


def standalone_command(url: str, token: str, max_examples: int, seed: int) -> list[str]:
    """The README's command, with a smaller budget (absolute paths: it runs in a temp
    dir, so schemathesis's cache directory never lands in the repository)."""
    return [
        str(SCHEMATHESIS),
        "--config-file",
        str(ROOT / "reference_app/schemathesis.toml"),
        "run",
        str(ROOT / "reference_app/openapi.yaml"),
        "--url",
        url,
        "-H",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--generation-database",
        "none",
        "--no-color",
    ]


@pytest.fixture(params=["memory", "sqlite"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, "-m", "reference_app", "--backend", request.param, "--port", str(port)]
    if request.param == "sqlite":
        args += ["--database-url", f"sqlite:///{tmp_path / 'ledger.db'}"]
    env = {**os.environ, "REFERENCE_APP_ADMIN_TOKEN": ADMIN, "REFERENCE_APP_SECRET": "s3cret"}
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/health/readiness", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"server did not start on {request.param}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_schemathesis_cli_passes_every_check(server: str, tmp_path: Path) -> None:
    signup = {"name": "CLI", "email": "cli@parity.example", "score": 750}
    token = httpx.post(f"{server}/v1/users", json=signup, timeout=10).json()["access_token"]
    env = {**os.environ, "PARITY_ADMIN_TOKEN": ADMIN}
    done = subprocess.run(
        standalone_command(server, token, max_examples=5, seed=1),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert "18 operations" in done.stdout or "Tested: 18" in done.stdout
    assert "failures" not in done.stdout.splitlines()[-1]
