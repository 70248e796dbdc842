"""PostgreSQL engines: a throwaway local cluster, a Docker container, or a given URL.

All three hand out the same thing: a database URL. For apps that isolate examples
themselves that is all (``store``); for the others each example gets a schema of its
own, named in the URL's ``search_path`` (``?options=-csearch_path%3Dp_1``), created before
the example and dropped after it: one small DDL transaction, never a new database.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
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
from urllib.parse import quote, urlsplit

from parity.engines.base import EngineInfo, EngineUnavailable
from parity.engines.server import BorrowedServerEngine, ServerEngine
from parity.reaper import remove_temp_dir, run_whole, temp_dir
from parity.redact import redact_url as redact

URL_ENV = "PARITY_POSTGRES_URL"
_RUN_AS_CANDIDATES = ("postgres", "nobody")
_CONNECT_TIMEOUT_S = 3


def normalise_url(url: str) -> str:
    """Accept ``postgresql://``, ``postgres://`` and SQLAlchemy-style ``+driver`` URLs."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in {"postgresql", "postgres"}:
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return f"postgresql://{rest}"


def schema_for(namespace: str) -> str:
    """A safe, unquoted schema name for an example's namespace."""
    return "ns_" + re.sub(r"[^a-z0-9_]", "_", namespace.lower())[:59]


def server_version(url: str) -> str:
    """``SHOW server_version`` over a short-lived connection (raises psycopg errors)."""
    import psycopg

    with psycopg.connect(url, connect_timeout=_CONNECT_TIMEOUT_S, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


class _PostgresEngine(ServerEngine):
    """Shared by the three engines: a schema per isolated example, version, facts."""

    kind = "postgres"
    place_kind = "schema"

    def __init__(self) -> None:
        super().__init__()
        self._version: str | None = None

    def place_for(self, namespace: str) -> str:
        return schema_for(namespace)

    def _create_place(self, base: str, place: str) -> str:
        import psycopg

        with psycopg.connect(base, connect_timeout=_CONNECT_TIMEOUT_S, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {place}")
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}options={quote(f'-csearch_path={place}', safe='')}"

    def _drop(self, base: str, places: list[str]) -> None:
        import psycopg

        with psycopg.connect(base, connect_timeout=_CONNECT_TIMEOUT_S, autocommit=True) as c:
            for schema in places:
                c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    def info(self) -> EngineInfo:
        url = self._require_url()
        if self._version is None:
            self._version = server_version(url)
        return EngineInfo(self.name, self.kind, self._version, {"url": redact(url)})


# --- postgres@local ----------------------------------------------------------------------


def find_binaries() -> Path | None:
    """The directory holding ``initdb`` and ``postgres``: the newest
    /usr/lib/postgresql/*/bin, else wherever PATH finds them."""

    def version_key(path: str) -> tuple[int, ...]:
        digits = Path(path).parent.parent.name
        return tuple(int(p) for p in digits.split(".") if p.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version_key)
    for initdb in reversed(candidates):
        bindir = Path(initdb).parent
        if (bindir / "postgres").exists():
            return bindir
    initdb_path = shutil.which("initdb")
    if initdb_path and (Path(initdb_path).parent / "postgres").exists():
        return Path(initdb_path).parent
    return None


def _run_as_user() -> pwd.struct_passwd | None:
    """A non-root OS user to run the server as (PostgreSQL refuses to run as root)."""
    for name in _RUN_AS_CANDIDATES:
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            if entry.pw_uid != 0:
                return entry
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalPostgresEngine(_PostgresEngine):
    """A throwaway cluster: initdb + the server in a temp dir, loopback only, random port.

    Durability is switched off (fsync, synchronous_commit, full_page_writes): the data
    lives for one test run, and speed matters more than surviving a power cut.
    """

    name = "postgres@local"
    START_TIMEOUT_S = 30

    def __init__(self) -> None:
        super().__init__()
        self._tmp: Path | None = None
        self._user: pwd.struct_passwd | None = None
        self._bindir: Path | None = None
        self._atexit_registered = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def data_dir(self) -> Path | None:
        return self._tmp / "data" if self._tmp else None

    def probe(self) -> str | None:
        if find_binaries() is None:
            return (
                "PostgreSQL server binaries (initdb, postgres) not found under "
                "/usr/lib/postgresql/*/bin or on PATH"
            )
        if os.geteuid() == 0:
            if _run_as_user() is None:
                return (
                    "running as root and no non-root OS user "
                    f"({' or '.join(_RUN_AS_CANDIDATES)}) to run the server as"
                )
            if shutil.which("runuser") is None:
                return "running as root and `runuser` is missing to drop privileges"
        return None

    def _cmd(self, *args: str) -> list[str]:
        if self._user is not None:
            return ["runuser", "-u", self._user.pw_name, "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return run_whole(self._cmd(*args), timeout)

    def start(self) -> None:
        super().start()  # probe
        if self.url is not None:
            return
        self._bindir = find_binaries()
        assert self._bindir is not None
        self._user = _run_as_user() if os.geteuid() == 0 else None
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        assert self._bindir is not None
        self._tmp = temp_dir("pg")  # removed by the watchdog if we are killed
        data, sock, log = self._tmp / "data", self._tmp / "sock", self._tmp / "server.log"
        sock.mkdir()
        if self._user is not None:
            for path in (self._tmp, sock):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        initdb = self._run(
            str(self._bindir / "initdb"),
            "-D", str(data),
            "-U", "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        if initdb.returncode != 0:
            raise EngineUnavailable(self.name, f"initdb failed: {_tail(initdb.stderr)}")
        port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        # The server runs as our child (through runuser), not daemonised by pg_ctl: we can
        # wait() for it, so it never lingers as a zombie, and it dies with its session.
        self._log = log.open("ab")
        self._proc = subprocess.Popen(
            self._cmd(
                str(self._bindir / "postgres"),
                "-D", str(data),
                "-p", str(port),
                "-c", "listen_addresses=127.0.0.1",
                "-c", f"unix_socket_directories={sock}",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=200",
                "-c", "shared_buffers=64MB",
            ),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self._wait_ready(log)

    def _wait_ready(self, log: Path) -> None:
        import psycopg

        assert self._proc is not None and self.url is not None
        deadline = time.monotonic() + self.START_TIMEOUT_S
        while True:
            if self._proc.poll() is not None:
                detail = log.read_text(errors="replace") if log.exists() else ""
                raise EngineUnavailable(self.name, f"postgres exited at start: {_tail(detail)}")
            try:
                psycopg.connect(self.url, connect_timeout=1).close()
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise EngineUnavailable(
                        self.name, f"server not ready after {self.START_TIMEOUT_S}s: {exc}"
                    ) from exc
            time.sleep(0.05)

    def server_pid(self) -> int | None:
        """The postmaster's pid, read from ``postmaster.pid`` (``None`` when not running)."""
        data = self.data_dir
        if data is None:
            return None
        try:
            return int((data / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Stop the server and remove the temp dir; never raises, safe to call twice."""
        self._places.clear()
        pid = self.server_pid()
        if pid is not None:
            _stop_postmaster(pid)
        if self._proc is not None:
            _stop_process_group(self._proc)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            remove_temp_dir(self._tmp)
        self._tmp = None
        self.url = None
        self._version = None


def _is_postmaster(pid: int) -> bool:
    """Guard against a stale ``postmaster.pid`` naming a recycled, unrelated process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"postgres" in cmdline


def _stop_postmaster(pid: int, timeout: float = 10.0) -> None:
    """Immediate shutdown (SIGQUIT: the postmaster stops its children, then exits; no
    checkpoint, since the data is thrown away), SIGKILL if it will not go. Signalling
    directly instead of ``pg_ctl stop`` saves pg_ctl's coarse polling (~1.5 s). A zombie
    (exited, not yet reaped) has an empty cmdline, so it counts as gone."""
    if not _is_postmaster(pid):
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_postmaster(pid):
            return
        time.sleep(0.02)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def _stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop everything started under ``proc``'s session (runuser, the postmaster, its
    backends), also when the postmaster died before writing ``postmaster.pid``."""
    for sig, wait_s in ((signal.SIGQUIT, 10.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait_s)
    with contextlib.suppress(OSError):  # stragglers of the group, if any
        os.killpg(proc.pid, signal.SIGKILL)


def _tail(text: str, lines: int = 3) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "no output"


# --- postgres@docker -----------------------------------------------------------------------


def docker_ping(timeout: float = 0.5) -> str | None:
    """``None`` if a Docker engine answers ``/_ping``; else where we looked and why not."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        if host.startswith("unix://"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(host.removeprefix("unix://"))
        elif host.startswith("tcp://"):
            parts = urlsplit(host)
            sock = socket.create_connection(
                (parts.hostname or "localhost", parts.port or 2375), timeout=timeout
            )
        else:
            return f"no Docker engine answers: unsupported DOCKER_HOST {host!r}"
        with sock:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(256)
    except OSError as exc:
        return f"no Docker engine answers at {host} ({exc.strerror or exc})"
    if not reply.startswith(b"HTTP/1.") or b" 200 " not in reply.split(b"\r\n", 1)[0]:
        return f"no Docker engine answers at {host} (unexpected reply)"
    return None


def _container_class() -> Any:
    """testcontainers' PostgresContainer (moved to ``community`` in testcontainers 4.x)."""
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        from testcontainers.postgres import PostgresContainer
    return PostgresContainer


class DockerPostgresEngine(_PostgresEngine):
    """A ``postgres`` container via testcontainers, removed on ``stop()``."""

    name = "postgres@docker"
    IMAGE = os.environ.get("PARITY_POSTGRES_IMAGE", "postgres:16-alpine")

    def __init__(self) -> None:
        super().__init__()
        self._container: Any = None

    def probe(self) -> str | None:
        try:
            _container_class()
        except ImportError:
            return "testcontainers is not installed (pip install 'parity[docker]')"
        return docker_ping()

    def start(self) -> None:
        super().start()
        if self.url is not None:
            return
        container = _container_class()(self.IMAGE, driver=None)
        try:
            container.start()
        except Exception as exc:
            with contextlib.suppress(Exception):
                container.stop()
            raise EngineUnavailable(self.name, f"container failed to start: {exc}") from exc
        self._container = container
        self.url = container.get_connection_url()

    def stop(self) -> None:
        self._places.clear()
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.stop()
        self._container = None
        self.url = None


# --- postgres@url ---------------------------------------------------------------------------


class UrlPostgresEngine(BorrowedServerEngine, _PostgresEngine):
    """Any server at ``$PARITY_POSTGRES_URL`` (see :class:`BorrowedServerEngine`)."""

    name = "postgres@url"
    url_env = URL_ENV
    product = "PostgreSQL"

    def accept(self, url: str) -> str:
        return normalise_url(url)

    def reach(self, url: str) -> None:
        self._version = server_version(url)
