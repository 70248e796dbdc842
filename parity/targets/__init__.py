"""Targets: where a request goes. One :class:`Target` protocol, two implementations.

- :class:`AsgiTarget` calls an ASGI app directly (no TestClient, no ASGITransport):
  the in-process fast path, close to the cost of the app itself.
- :class:`HttpTarget` speaks HTTP to a base URL (a real server, or :func:`serve`).
"""

from parity.targets.asgi import AsgiTarget
from parity.targets.base import Response, Target
from parity.targets.http import HttpTarget, serve

__all__ = ["AsgiTarget", "HttpTarget", "Response", "Target", "serve"]
