"""HTTP target (httpx to a base URL) and :func:`serve`, which runs an app under a real
uvicorn server on loopback, so the same scenario can exercise the full HTTP stack."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from parity.targets.base import Response, encode_body


class HttpTarget:
    def __init__(self, base_url: str, name: str = "http", timeout: float = 30.0) -> None:
        self.name = name
        self.blocking_io = True  # network round trips: worth running concurrently
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        body: bytes | None = None,
    ) -> Response:
        hdrs, payload = encode_body(headers, json, body)
        start = time.perf_counter()
        resp = self._client.request(method, path, headers=hdrs, content=payload or None)
        elapsed = time.perf_counter() - start
        headers_out: dict[str, str] = {}
        for key, value in resp.headers.multi_items():
            name = key.lower()
            headers_out[name] = f"{headers_out[name]}, {value}" if name in headers_out else value
        return Response(resp.status_code, headers_out, resp.content, elapsed)

    def close(self) -> None:
        self._client.close()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(app: Any, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free loopback port; yield its base URL."""
    import uvicorn

    port = port or free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="auto")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"parity-uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on {host}:{port}")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
