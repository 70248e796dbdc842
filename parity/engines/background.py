"""A socket server served from a daemon thread: the shape every in-process endpoint
(Parity's in-process moto server, the DynamoDB fault proxy) needs, written once."""

from __future__ import annotations

import socketserver
import threading


class BackgroundServer:
    """Serve ``server`` on a daemon thread until :meth:`stop` shuts it down and closes it."""

    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])  # type: ignore[index]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
