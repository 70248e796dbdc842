"""Purchase requests/second per backend: the reference app under uvicorn, one process.

Each engine's app is served by ``python -m reference_app`` in its own process (so the
server does not share a GIL with the load generator); ``CLIENTS`` threads each post
purchases to their own card over keep-alive connections. Bounded: ``REQUESTS`` requests
per engine, loopback only.

    python benchmarks/bench_api.py [memory,sqlite,postgres@local,dynamodb@moto-server]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from parity.engines.base import EngineUnavailable
from parity.engines.registry import create_engine
from parity.targets.http import free_port
from reference_app.settings import settings_to_env
from scenarios.binding import binding

CLIENTS = 4
REQUESTS = 400
DEFAULT = (
    "memory,sqlite,postgres@local,mysql@local,firestore@emulator,"
    "dynamodb@moto,dynamodb@moto-server,dynamodb@local,dynamodb@ministack"
)


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            if httpx.get(f"{url}/health/readiness", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become ready")


def _client_run(url: str, n: int) -> int:
    with httpx.Client(base_url=url, timeout=30) as c:
        email = f"{uuid.uuid4().hex[:10]}@bench.io"
        user = c.post("/v1/users", json={"name": "b", "email": email, "score": 900}).json()
        auth = {"Authorization": f"Bearer {user['access_token']}"}
        card = c.post("/v1/card-requests", headers={**auth, "Idempotency-Key": "c"}).json()
        ok = 0
        for i in range(n):
            r = c.post(
                f"/v1/cards/{card['card_id']}/transactions",
                json={"type": "purchase", "amount_cents": 1},
                headers={**auth, "Idempotency-Key": f"p{i}"},
            )
            ok += r.status_code == 201
        return ok


def bench(engine_name: str) -> tuple[float, int] | str:
    engine = create_engine(engine_name)
    try:
        engine.start()
    except EngineUnavailable as exc:
        return exc.reason
    try:
        binding.prepare_store(engine.store())  # the reference app's tables
        store = engine.store("bench" + uuid.uuid4().hex[:6])
        settings = binding.store_settings(store, relay_interval_seconds=0)
        port = free_port()
        env = {**os.environ, **settings_to_env(settings), "REFERENCE_APP_PORT": str(port)}
        cmd = [sys.executable, "-m", "reference_app", "--log-level", "warning"]
        proc = subprocess.Popen(cmd, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, proc)
            per_client = REQUESTS // CLIENTS
            start = time.perf_counter()
            with ThreadPoolExecutor(CLIENTS) as pool:
                ok = sum(pool.map(lambda _: _client_run(url, per_client), range(CLIENTS)))
            elapsed = time.perf_counter() - start
            return ok / elapsed, ok
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        engine.stop()


def main() -> None:
    names = (sys.argv[1] if len(sys.argv) > 1 else DEFAULT).split(",")
    print(f"{'engine':<24} {'purchases/s':>12} {'ok':>6}")
    for name in names:
        result = bench(name)
        if isinstance(result, str):
            print(f"{name:<24} {'unavailable':>12}  ({result})")
        else:
            print(f"{name:<24} {result[0]:>12.1f} {result[1]:>6}")


if __name__ == "__main__":
    main()
