"""A threaded HTTP/1.1 WSGI server that keeps connections open, for Parity's moto engines.

Why not werkzeug's development server (what ``moto_server`` uses): it answers every request
with ``Connection: close``, so each DynamoDB call of the app paid a new TCP connection and
a new server thread. Measured on the 2-core CI machine: 224 of 224 ``GetItem`` calls opened
a connection (~4 ms each under load) and thread start-up was 9 % of the server's CPU.

This server reads exactly ``Content-Length`` bytes of every request body (AWS SDKs always
send it; a request without one and with a body is refused, ``411``), so the next request on
the connection starts where it should, and answers with ``Content-Length``, so the client
keeps the connection. One thread per connection (the SDK's pool keeps a few open), started
with a smaller stack: a moto handler needs little.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: headers a WSGI environ carries without the ``HTTP_`` prefix
_UNPREFIXED = {"CONTENT_TYPE", "CONTENT_LENGTH"}


class KeepAliveHandler(BaseHTTPRequestHandler):
    """One connection: requests are served in turn until the client closes it."""

    protocol_version = "HTTP/1.1"
    #: werkzeug writes headers and body in separate sends; with Nagle on, the body waits for
    #: the client's delayed ACK (40 ms). We send one buffer, but keep the flag for safety.
    disable_nagle_algorithm = True
    server: KeepAliveWSGIServer

    def log_message(self, format: str, *args: Any) -> None:
        """No access log line per request: the harness sends thousands."""

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": self.path,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key not in _UNPREFIXED:
                key = "HTTP_" + key
            if key in environ:  # a repeated header: WSGI joins them with a comma
                environ[key] += "," + value
            else:
                environ[key] = value
        environ["CONTENT_LENGTH"] = str(len(body))
        return environ

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None:
            if self.headers.get("Transfer-Encoding"):
                # chunked uploads: no AWS SDK sends them to DynamoDB or SQS. Read the
                # body away first: closing on unread bytes resets the connection, and the
                # client, still sending, gets a broken pipe instead of the 411
                self._discard_chunked()
                return None
            return b""
        return self.rfile.read(int(length))

    def _discard_chunked(self, limit: int = 1 << 20) -> None:
        """Read a chunked body to its end (at most ``limit`` bytes of it), unparsed."""
        read = 0
        while read <= limit:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                return
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers, then the blank line
                    pass
                return
            self.rfile.read(size + 2)  # the chunk and its CRLF
            read += size

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.send_error(411, "Content-Length required")
            self.close_connection = True
            return
        status_line: list[str] = []
        response_headers: list[tuple[str, str]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            status_line[:] = [status]
            response_headers[:] = headers
            return lambda data: None  # write(): moto never uses it

        result = self.server.app(self._environ(body), start_response)
        try:
            payload = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        head = [f"{self.protocol_version} {status_line[0]}", f"Date: {self.date_time_string()}"]
        head += [
            f"{name}: {value}"
            for name, value in response_headers
            if name.lower() not in {"content-length", "connection", "transfer-encoding", "date"}
        ]
        head.append(f"Content-Length: {len(payload)}")
        # status, headers and body in one send: one wake-up of the client, not two
        block = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(block if self.command == "HEAD" else block + payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve


class KeepAliveWSGIServer(ThreadingHTTPServer):
    """``ThreadingHTTPServer`` serving a WSGI app with :class:`KeepAliveHandler`."""

    daemon_threads = True

    def __init__(self, host: str, port: int, app: WsgiApp) -> None:
        self.app = app
        super().__init__((host, port), KeepAliveHandler)


def make_keepalive_server(host: str, port: int, app: WsgiApp) -> KeepAliveWSGIServer:
    """A server bound to ``host:port`` (0: any free port); call ``serve_forever``."""
    return KeepAliveWSGIServer(host, port, app)
