"""MySQL / MariaDB engines: a throwaway local MariaDB, or a server at a given URL.

Both hand out a database URL (``mysql://root@127.0.0.1:PORT/``). For apps that isolate
examples themselves that is all (:meth:`store`: the URL names no database, the app picks
its own); for the others each example gets a database of its own, named in the URL's
path (``mysql://root@127.0.0.1:PORT/p_ex_1``), created before the example and dropped
after it (:meth:`isolated` / :meth:`discard`).

The engines do not choose any semantics for the app: a server keeps its defaults
(MariaDB's ``utf8mb4_general_ci`` collation, ``REPEATABLE READ``, its ``sql_mode``), which
:meth:`info` reports, so a run shows what an app that leaves them alone would get.

``mysql@local`` runs ``mariadb-install-db`` then ``mariadbd`` in a temp dir, on 127.0.0.1
and a free port, as the ``mysql`` OS user when we are root (``--user=mysql``), with
durability off (the data lives for one run). The server runs under a tiny ``sh``
watchdog in a process group of its own, holding the read end of a pipe whose write end
only this process has: :meth:`stop` (also at exit, and on SIGTERM, which the parity CLI
turns into an interrupt) closes the pipe, and so does the kernel when this process is
killed outright; either way the watchdog kills the server and removes the temp dir.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from parity.engines.base import EngineInfo, EngineUnavailable
from parity.engines.server import BorrowedServerEngine, ServerEngine
from parity.reaper import remove_temp_dir, run_whole, temp_dir
from parity.redact import redact_url as redact

URL_ENV = "PARITY_MYSQL_URL"
RUN_AS = "mysql"
_CONNECT_TIMEOUT_S = 3
_SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/mysql/bin", "/usr/local/bin")
_INSTALL_DB = ("mariadb-install-db", "mysql_install_db")
_SERVER = ("mariadbd", "mysqld")
_SCHEMES = {"mysql", "mariadb"}

#: The watchdog: start the server, say its pid, wait for our pipe to close, clean up.
_WATCHDOG = r"""
tmp=$1; shift
"$@" </dev/null &
server=$!
echo "$server"
read -r _ || true
kill -KILL "$server" 2>/dev/null
wait "$server" 2>/dev/null
rm -rf -- "$tmp"
"""


def connect_kwargs(url: str) -> dict[str, Any]:
    """PyMySQL ``connect`` arguments for ``mysql://user:pw@host:port/db``."""
    scheme = url.partition("://")[0]
    if "://" not in url or scheme.split("+")[0] not in _SCHEMES:
        raise ValueError(f"not a MySQL URL: {url!r}")
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": unquote(parts.path.lstrip("/")) or None,
    }


def with_database(url: str, database: str) -> str:
    """``url`` naming ``database`` in its path (query kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def database_for(namespace: str) -> str:
    """A safe, unquoted database name for an example's namespace (≤ 64 characters)."""
    return "p_" + re.sub(r"[^a-z0-9_]", "_", namespace.lower())[:60]


def _connect(url: str, database: str | None = None, timeout: float = _CONNECT_TIMEOUT_S) -> Any:
    import pymysql

    kwargs = connect_kwargs(url)
    kwargs["database"] = database
    return pymysql.connect(**kwargs, connect_timeout=timeout, autocommit=True)


def server_facts(url: str) -> dict[str, str]:
    """The server's version and the defaults an app inherits unless it sets its own."""
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT VERSION(), @@collation_server, @@sql_mode, "
                "@@default_storage_engine, @@time_zone"
            )
            row = cur.fetchone() or ("unknown", "", "", "", "")
            cur.execute("SELECT @@tx_isolation" if "mariadb" in str(row[0]).lower() else
                        "SELECT @@transaction_isolation")  # fmt: skip
            isolation = (cur.fetchone() or ("",))[0]
    finally:
        conn.close()
    return {
        "version": str(row[0]),
        "collation_server": str(row[1]),
        "sql_mode": str(row[2]),
        "default_storage_engine": str(row[3]),
        "time_zone": str(row[4]),
        "isolation": str(isolation),
    }


def _first_line(exc: BaseException) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) == 2 and isinstance(args[0], int):  # PyMySQL: (errno, message)
        message = (str(args[1]).strip().splitlines() or [""])[0]
        return f"({args[0]}) {message}"
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _driver_missing() -> str | None:
    try:
        import pymysql  # noqa: F401
    except ImportError:
        return "PyMySQL is not installed (pip install 'parity[mysql]')"
    return None


class _MysqlEngine(ServerEngine):
    """Shared by both engines: a database per isolated example, server facts."""

    kind = "mysql"
    place_kind = "database"

    def __init__(self) -> None:
        super().__init__()
        self._facts: dict[str, str] | None = None

    def place_for(self, namespace: str) -> str:
        return database_for(namespace)

    def _create_place(self, base: str, place: str) -> str:
        conn = _connect(base)
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS `{place}`")
        finally:
            conn.close()
        return with_database(base, place)

    def _drop(self, base: str, places: list[str]) -> None:
        conn = _connect(base)
        try:
            with conn.cursor() as cur:
                for database in places:
                    cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
        finally:
            conn.close()

    def info(self) -> EngineInfo:
        url = self._require_url()
        if self._facts is None:
            self._facts = server_facts(url)
        facts = dict(self._facts)
        version = facts.pop("version")
        return EngineInfo(self.name, self.kind, version, {"url": redact(url), **facts})


# --- mysql@local ------------------------------------------------------------------------------


def find_binaries() -> tuple[Path, Path] | None:
    """(install-db script, server binary): on PATH or in the usual sbin directories."""

    def find(names: tuple[str, ...]) -> Path | None:
        for name in names:
            found = shutil.which(name) or next(
                (f"{d}/{name}" for d in _SEARCH_DIRS if os.access(f"{d}/{name}", os.X_OK)),
                None,
            )
            if found:
                return Path(found)
        return None

    install_db, server = find(_INSTALL_DB), find(_SERVER)
    if install_db is None or server is None:
        return None
    return install_db, server


def _run_as_user() -> pwd.struct_passwd | None:
    with contextlib.suppress(KeyError):
        entry = pwd.getpwnam(RUN_AS)
        if entry.pw_uid != 0:
            return entry
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _alive(pid: int) -> bool:
    """Running (a zombie awaiting its reaper counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def _tail(text: str, lines: int = 3) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "no output"


#: Throwaway data: no fsync, no doublewrite, no binary log, a small buffer pool.
_FAST = (
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--innodb-flush-method=nosync",
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=32M",
)


class LocalMysqlEngine(_MysqlEngine):
    """A throwaway MariaDB: install-db + the server in a temp dir, loopback, free port."""

    name = "mysql@local"
    START_TIMEOUT_S = 60

    def __init__(self) -> None:
        super().__init__()
        self._tmp: Path | None = None
        self._user: pwd.struct_passwd | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._server_pid: int | None = None
        self._atexit_registered = False

    @property
    def server_pid(self) -> int | None:
        return self._server_pid

    @property
    def temp_dir(self) -> Path | None:
        return self._tmp

    def probe(self) -> str | None:
        if find_binaries() is None:
            return (
                "MariaDB server binaries (mariadb-install-db, mariadbd) not found on PATH "
                f"or in {', '.join(_SEARCH_DIRS)} (apt-get install mariadb-server)"
            )
        if os.geteuid() == 0 and _run_as_user() is None:
            return f"running as root and no non-root OS user {RUN_AS!r} to run the server as"
        return _driver_missing()

    def start(self) -> None:
        super().start()  # probe
        if self.url is not None:
            return
        self._user = _run_as_user() if os.geteuid() == 0 else None
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _user_args(self) -> list[str]:
        return [f"--user={self._user.pw_name}"] if self._user is not None else []

    def _start(self) -> None:
        binaries = find_binaries()
        assert binaries is not None
        install_db, server = binaries
        self._tmp = tmp = temp_dir("mysql")  # removed by the watchdog if we are killed
        if self._user is not None:
            os.chown(tmp, self._user.pw_uid, self._user.pw_gid)
        data, log = tmp / "data", tmp / "server.log"
        install = run_whole(
            [
                str(install_db),
                "--no-defaults",
                f"--datadir={data}",
                *self._user_args(),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                *_FAST,
            ],
            timeout=120,
        )
        if install.returncode != 0:
            output = install.stderr + install.stdout
            errors = "\n".join(line for line in output.splitlines() if "ERROR" in line.upper())
            raise EngineUnavailable(
                self.name, f"mariadb-install-db failed: {_tail(errors or output)}"
            )
        port = _free_port()
        server_cmd = [
            str(server),
            "--no-defaults",
            f"--datadir={data}",
            *self._user_args(),
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={tmp / 'mysqld.sock'}",
            f"--pid-file={tmp / 'mysqld.pid'}",
            f"--log-error={log}",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--character-set-server=utf8mb4",  # the charset; its collation stays default
            "--max-connections=300",
            *_FAST,
        ]
        self._proc = subprocess.Popen(
            ["sh", "-c", _WATCHDOG, "parity-mysql-watchdog", str(tmp), *server_cmd],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: signals to us don't reach it
        )
        assert self._proc.stdout is not None
        first = self._proc.stdout.readline().strip()
        self._server_pid = int(first) if first.isdigit() else None
        self.url = f"mysql://root@127.0.0.1:{port}/"
        self._wait_ready(log)

    def _wait_ready(self, log: Path) -> None:
        assert self.url is not None
        deadline = time.monotonic() + self.START_TIMEOUT_S
        while True:
            if self._server_pid is None or not _alive(self._server_pid):
                detail = log.read_text(errors="replace") if log.exists() else ""
                raise EngineUnavailable(self.name, f"mariadbd exited at start: {_tail(detail)}")
            try:
                _connect(self.url, timeout=1).close()
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise EngineUnavailable(
                        self.name,
                        f"server not ready after {self.START_TIMEOUT_S}s: {_first_line(exc)}",
                    ) from exc
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server and remove the temp dir; never raises, safe to call twice."""
        self._places.clear()
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                if proc.stdin is not None:
                    proc.stdin.close()  # the watchdog kills the server, removes the dir
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        pid, self._server_pid = self._server_pid, None
        if pid is not None and _alive(pid):  # the watchdog died before its job
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
        if self._tmp is not None:
            remove_temp_dir(self._tmp)
        self._tmp = None
        self.url = None
        self._facts = None


# --- mysql@url ---------------------------------------------------------------------------------


class UrlMysqlEngine(BorrowedServerEngine, _MysqlEngine):
    """Any server at ``$PARITY_MYSQL_URL`` (see :class:`BorrowedServerEngine`)."""

    name = "mysql@url"
    url_env = URL_ENV
    product = "MySQL"

    def probe(self) -> str | None:
        return _driver_missing() or super().probe()

    def accept(self, url: str) -> str:
        connect_kwargs(url)  # ValueError when it is no MySQL URL
        return url

    def reach(self, url: str) -> None:
        self._facts = server_facts(url)

    def why(self, exc: BaseException) -> str:
        return _first_line(exc)
