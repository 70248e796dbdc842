"""An interrupted run always ends: SIGTERM and Ctrl-C become a ``KeyboardInterrupt`` that
is never lost.

SIGTERM (a cancelled CI job, ``kill``) is turned into ``KeyboardInterrupt`` like Ctrl-C,
so ``finally`` blocks and atexit hooks stop the engines a run started (Python's default
SIGTERM action exits at once and left throwaway PostgreSQL clusters and moto servers
running).

Python runs a signal handler at the next bytecode boundary of the main thread, wherever
that is. When that is inside a garbage-collector callback (Hypothesis registers one that
times every collection), a ``__del__`` method or a weakref callback, the exception cannot
propagate: Python reports it as "Exception ignored in ..." and carries on, so the run
went on drawing examples for minutes after it was told to stop (the "interrupted run
never exits on a loaded CI machine" of issue 13; py-spy showed the main thread still in
the scenario, stderr showed the ignored ``KeyboardInterrupt`` in Hypothesis's
``gc_callback``). :func:`interruptible` catches exactly that case through
``sys.unraisablehook`` and delivers the signal again, so it is raised at the next
boundary, outside the callback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

#: the signal an interrupt came from, to deliver again if it was swallowed
_received: list[int] = []


def _interrupt(signum: int, frame: object) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


def _handled_by_python(signum: int) -> bool:
    return callable(signal.getsignal(signum))


#: how long after a swallowed interrupt it is delivered again: the callback that
#: swallowed it (microseconds of work) has returned by then
REDELIVERY_DELAY = 0.05


def _deliver_again(previous: Any) -> Any:
    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            # Raised where it could not propagate. Not from here: the handler would run
            # inside this hook and be swallowed again. A real signal to the main thread,
            # a moment later, also wakes it from a blocking wait.
            signum = _received[-1] if _received else signal.SIGINT
            if _handled_by_python(signum):
                main = threading.main_thread().ident
                assert main is not None
                timer = threading.Timer(REDELIVERY_DELAY, signal.pthread_kill, (main, signum))
                timer.daemon = True
                timer.start()
                return
        previous(unraisable)

    return hook


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Within: SIGTERM raises ``KeyboardInterrupt``, and a ``KeyboardInterrupt`` Python
    had to swallow is raised again. Outside the main thread (a test's worker thread, where
    signals cannot be handled) nothing changes."""
    try:
        previous_term = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread
        yield
        return
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int is signal.default_int_handler:  # Ctrl-C counts (unless ignored)
        signal.signal(signal.SIGINT, _interrupt)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _deliver_again(previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        signal.signal(signal.SIGTERM, previous_term)
        if previous_int is signal.default_int_handler:
            signal.signal(signal.SIGINT, previous_int)
        _received.clear()


def raise_if_interrupted() -> None:
    """At a safe point (an example run ended): go on interrupting. A library that turns
    whatever its test raised into a result (Hypothesis may report an interrupt met while
    replaying as a flaky or grouped failure) must not make the run carry on."""
    if _received:
        raise KeyboardInterrupt


#: how long an interrupted process may wait at exit for calls still in flight
EXIT_GRACE = 10.0


def exit_within(code: int, grace: float = EXIT_GRACE) -> None:
    """Make an interrupted process end within ``grace`` seconds with ``code``, even when
    a worker thread is still inside a call to an app.

    Why: Python joins every thread-pool thread at exit, after the run's ``finally``
    blocks stopped its engines. A call in flight when the signal came can then block on a
    store that is gone (psycopg's pool waits 30 s per attempt and reconnects for 300 s):
    an interrupted run printed "parity: interrupted" and hung at exit for minutes under
    load. Engines were stopped already; whatever a forced exit skips (atexit hooks,
    the watchdog's goodbye) the watchdog cleans up as for a killed process."""

    def force() -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)

    timer = threading.Timer(grace, force)
    timer.daemon = True
    timer.start()
