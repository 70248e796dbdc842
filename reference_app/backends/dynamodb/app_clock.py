"""Tell the store the app's time: ``X-Parity-Now`` on every DynamoDB request (parity mode).

Why: DynamoDB TTL deletes an item once its TTL attribute is before the *service's*
clock. In a parity run the app lives on a manual clock the engine cannot see, so Parity's
TTL fault (``+ttl-lag``, ``parity/engines/dynamodb_faults.py``) would judge expiry by the
wrong time. The backend sends the manual clock's latest reading (reading it for this
never moves it) with each request; the fault proxy takes the header off before the
emulator sees it. Production has no manual clock and sends nothing.

The boto3 client is shared by every app of the process, so the time comes from a context
variable that each unit of work sets for the code that runs it (a request's worker
thread, the relay's thread).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from reference_app.domain.timefmt import format_ts

HEADER = "X-Parity-Now"

_app_time: ContextVar[Callable[[], datetime] | None] = ContextVar("parity_app_time", default=None)


def install(client: Any) -> None:
    """Stamp the client's requests (once per client: botocore dedupes by ``unique_id``).
    A client without botocore's events (a test's scripted fake) sends no requests."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is not None:
        events.register("before-send.dynamodb", _stamp, unique_id="parity-app-time")


def use(app_time: Callable[[], datetime] | None) -> None:
    """From here on in this context, requests carry ``app_time()`` (``None``: nothing)."""
    _app_time.set(app_time)


def _stamp(request: Any, **_: Any) -> None:
    app_time = _app_time.get()
    if app_time is not None:
        request.headers[HEADER] = format_ts(app_time())
