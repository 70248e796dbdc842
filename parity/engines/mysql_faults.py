"""Deadlocks for MySQL / MariaDB (``mysql@local+serialization-failures``).

What a real one looks like, and what the app gets here: InnoDB picks a deadlock victim,
rolls back its *whole* transaction and answers the statement with error 1213, SQLSTATE
``40001`` ("Deadlock found when trying to get lock; try restarting transaction"). The
remedy is to run the transaction again.

Why a wire-protocol proxy and not triggers, as on PostgreSQL: a MySQL trigger cannot end
the transaction (a ``SIGNAL`` in a trigger fails only the statement, so an app that
swallowed the error and committed would keep its earlier writes, which a real deadlock
never allows), MySQL has no DDL event to arm the app's tables as they are created, and
it has no per-statement triggers. A small TCP proxy on 127.0.0.1, which the store's URL
points at, sees each command of the classic protocol in the clear. It tracks explicit
transactions per connection (``BEGIN``/``START TRANSACTION`` … ``COMMIT``/``ROLLBACK``)
and judges the first write (``INSERT``, ``UPDATE``, ``DELETE``, ``REPLACE``) of each with
:class:`parity.engines.dice.Dice` from the run's seed. A write to fail is replaced by
``CALL parity_faults.deadlock()``, a procedure installed on the server that does ``ROLLBACK``
and then ``SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213``: the server itself rolls the
transaction back and sends the error, through the app's own driver. At most
:data:`MAX_RUN` failures in a row, so an app that retries gets through.

Limits: plain TCP only (a client that asks for TLS is passed through untouched, never
judged); writes outside an explicit transaction (autocommit) and the app's migrations are
never failed. Needs a user that may create a database and a procedure: only on servers
Parity starts itself (``mysql@local``).
"""

from __future__ import annotations

import contextlib
import re
import socket
import socketserver
import threading
from urllib.parse import urlsplit, urlunsplit

from parity.engines.background import BackgroundServer
from parity.engines.dice import Dice

#: failures in a row, at most (like PostgreSQL's)
MAX_RUN = 2
ER_LOCK_DEADLOCK = 1213
MESSAGE = "Deadlock found when trying to get lock; try restarting transaction (parity)"
PROCEDURE = "parity_faults.deadlock"
INSTALL = (
    "CREATE DATABASE IF NOT EXISTS parity_faults",
    f"DROP PROCEDURE IF EXISTS {PROCEDURE}",
    f"""CREATE PROCEDURE {PROCEDURE}()
BEGIN
    ROLLBACK;
    SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = {ER_LOCK_DEADLOCK}, MESSAGE_TEXT = '{MESSAGE}';
END""",
)

_COM_QUERY = 0x03
_CLIENT_SSL = 0x0800
_MAX_PAYLOAD = 0xFFFFFF
#: the statement's first keyword, after blanks and comments
_KEYWORD = re.compile(rb"(?:\s|/\*.*?\*/|(?:--|#)[^\n]*\n)*([A-Za-z]+)", re.S)
_BEGINS = {b"BEGIN", b"START"}
_ENDS = {b"COMMIT", b"ROLLBACK"}
_WRITES = {b"INSERT", b"UPDATE", b"DELETE", b"REPLACE"}


def install(url: str) -> None:
    """Create the deadlock procedure on the server at ``url`` (raises PyMySQL errors)."""
    import pymysql

    from parity.engines.mysql import connect_kwargs

    conn = pymysql.connect(**connect_kwargs(url), connect_timeout=5, autocommit=True)
    try:
        with conn.cursor() as cur:
            for statement in INSTALL:
                cur.execute(statement)
    finally:
        conn.close()


def keyword(payload: bytes) -> bytes:
    """The upper-cased first keyword of a ``COM_QUERY`` payload's SQL (``b""``: none)."""
    match = _KEYWORD.match(payload, 1)
    return match.group(1).upper() if match else b""


class DeadlockProxy:
    """A threaded TCP proxy to the server at ``upstream`` (a ``mysql://`` URL) that fails
    a seeded share of transactions as deadlock victims (see the module docstring)."""

    def __init__(self, upstream: str, rate: float, seed: int) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 3306)
        self.rate = rate
        self.dice = Dice(seed)
        #: transactions judged and failed (tests and reports read it)
        self.injected: dict[str, int] = {"judged": 0, "deadlock": 0}
        self._lock = threading.Lock()
        self._run = 0
        self._sockets: set[socket.socket] = set()
        self._served: BackgroundServer | None = None

    @property
    def port(self) -> int:
        assert self._served is not None, "proxy not started"
        return self._served.port

    def route(self, url: str) -> str:
        """``url`` pointed at the proxy (user, password, database and query kept)."""
        parts = urlsplit(url)
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@127.0.0.1:{self.port}" if auth else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def start(self) -> None:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._served = BackgroundServer(server, "parity-mysql-faults")

    def new_example(self) -> None:
        """Start the decisions over (the engine hands out the next example's store)."""
        with self._lock:
            self.dice = Dice(self.dice.seed)
            self._run = 0

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()

    # --- one connection -------------------------------------------------------------------

    def _serve(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            return
        server.settimeout(None)
        for sock in (client, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self._sockets.update((client, server))
        back = threading.Thread(target=_pipe, args=(server, client), daemon=True)
        back.start()
        try:
            self._commands(client, server)
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
            back.join(timeout=5)
            with self._lock:
                self._sockets.difference_update((client, server))

    def _commands(self, client: socket.socket, server: socket.socket) -> None:
        """Client to server, a packet at a time: a packet with sequence id 0 starts a
        command (handshake and authentication packets never have 0)."""
        in_transaction = judged = False
        first = True
        while True:
            header = _read(client, 4)
            if header is None:
                return
            length = int.from_bytes(header[:3], "little")
            payload = _read(client, length)
            if payload is None:
                return
            if first:  # the handshake response: a TLS request leaves us blind
                first = False
                flags = int.from_bytes(payload[:4], "little") if len(payload) >= 4 else 0
                if flags & _CLIENT_SSL:
                    server.sendall(header + payload)
                    _pipe(client, server)
                    return
            elif header[3] == 0 and length < _MAX_PAYLOAD and payload[:1] == bytes([_COM_QUERY]):
                word = keyword(payload)
                if word in _BEGINS:
                    in_transaction, judged = True, False
                elif word in _ENDS:
                    in_transaction = False
                elif word in _WRITES and in_transaction and not judged:
                    judged = True
                    if self._fail():
                        payload = bytes([_COM_QUERY]) + f"CALL {PROCEDURE}()".encode()
                        header = len(payload).to_bytes(3, "little") + b"\x00"
                        in_transaction = False  # the procedure rolled it back
            server.sendall(header + payload)

    def _fail(self) -> bool:
        roll = self.dice.roll("deadlock")
        with self._lock:
            self.injected["judged"] += 1
            if roll >= self.rate or self._run >= MAX_RUN:
                self._run = 0
                return False
            self._run += 1
            self.injected["deadlock"] += 1
            return True


def _read(sock: socket.socket, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        try:
            chunk = sock.recv(size)
        except OSError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes until either side closes."""
    while True:
        try:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
        except OSError:
            break
    for sock in (source, target):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
