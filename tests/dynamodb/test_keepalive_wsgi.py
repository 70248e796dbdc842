"""The moto engines' WSGI server keeps a connection open across requests and reads each
body exactly (the next request on the connection starts where it should)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from parity.engines.keepalive_wsgi import KeepAliveWSGIServer, make_keepalive_server


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
    return [environ["REQUEST_METHOD"].encode(), b" ", environ["HTTP_X_TAG"].encode(), b" ", body]


@pytest.fixture
def server() -> Iterator[KeepAliveWSGIServer]:
    server = make_keepalive_server("127.0.0.1", 0, _echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_one_connection_serves_many_requests_with_their_own_bodies(
    server: KeepAliveWSGIServer,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    answers, sockets = [], set()
    for i in range(3):
        connection.request("POST", "/", body=b"x" * i + b"!", headers={"X-Tag": str(i)})
        response = connection.getresponse()
        answers.append((response.status, response.getheader("Connection"), response.read()))
        sockets.add(id(connection.sock))
    assert answers == [
        (200, None, b"POST 0 !"),
        (200, None, b"POST 1 x!"),
        (200, None, b"POST 2 xx!"),
    ]
    assert len(sockets) == 1  # one socket for all three: the server never closed it
    connection.close()


def test_a_chunked_body_without_length_is_refused(server: KeepAliveWSGIServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    connection.request("POST", "/", body=iter([b"abc"]), headers={"X-Tag": "c"})
    response = connection.getresponse()
    assert response.status == 411
    connection.close()
