"""DynamoDB engines: moto (in-process and as a server), dynalite, LocalStack, a URL, real AWS.

An engine provisions an endpoint (and a unique table prefix), nothing else: the app's
binding creates its tables on it (``prepare_store``), so an emulator's table is by
construction the production table. Apps that isolate examples themselves share the
prefix (a namespace is a key prefix, never a new table); for the others each example
gets a table prefix of its own, whose tables ``discard`` deletes.

Emulator engines never reach AWS: their stores carry a loopback endpoint and
``options["credentials"]`` (dummy keys); the clients made here use dummy credentials
explicitly. Nothing touches ``os.environ``, so an ``dynamodb@aws`` engine in the same
process still sees the real credential chain.

Why moto runs behind a real HTTP server even "in-process": ``mock_aws`` patches botocore
process-wide (every client, including any real-AWS one) and its patching is not meant for
clients made in many threads; a ``ThreadedMotoServer``-style server on 127.0.0.1 keeps moto's
state in this process while the backend uses exactly the production code path (an endpoint
override), from any thread. Both moto engines also serialise moto's DynamoDB request
handling behind one lock (:func:`serialize_moto_dynamodb`): moto's ``TransactWriteItems``
checks conditions and writes without a lock and rolls back by restoring a deep copy of the
table, so concurrent transactions on a threaded server can both win, or erase each
other's writes. Real DynamoDB isolates transactions; the lock restores that property.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, ClassVar

from parity.binding import Store
from parity.engines.base import Engine, EngineInfo, EngineUnavailable

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
DEFAULT_REGION = "us-east-1"
#: what a store's ``options["credentials"]`` holds on an emulator (boto3 keyword names)
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answers(url: str, timeout: float, proc: subprocess.Popen[bytes] | None) -> bool:
    """Poll ``url`` until any HTTP answer (even 4xx/5xx) comes back, or give up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    return False


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- moto ----------------------------------------------------------------------------------

_moto_lock = threading.RLock()
_moto_patched = False


def serialize_moto_dynamodb() -> None:
    """Run every moto DynamoDB request under one process-wide lock (idempotent).

    See the module docstring: without it, moto's TransactWriteItems is not isolated.
    """
    global _moto_patched
    if _moto_patched:
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _moto_lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    _keyed_transaction_rollback()
    _moto_patched = True


def _keyed_transaction_rollback() -> None:
    """Make moto's transaction rollback O(items in the transaction), not O(table).

    moto snapshots every table a transaction touches (``copy.deepcopy``) before applying
    it and restores the snapshot if any condition fails, so each commit costs time
    proportional to the whole table: measured, the snapshot alone was 37% of moto-server's
    CPU in the concurrency scenario even with namespaces dropped after each example. For
    transactions made only of Put, Delete and ConditionCheck on a range-keyed table without
    a stream, moto replaces items and never mutates one in place, so remembering the prior
    item (or its absence) under each key the transaction names and putting those back on
    failure restores exactly the same state. Anything else keeps moto's own snapshot.
    Safe only under the serialising lock above (the swap of ``models.copy`` is global).
    """
    import copy as stdlib_copy

    import moto.dynamodb.models as models
    from moto.dynamodb.models.dynamo_type import DynamoType

    class _NoSnapshot:
        """moto's rollback re-assigns the "snapshot", which is then the live table."""

        def deepcopy(self, obj: Any, memo: Any = None) -> Any:
            return obj

        def __getattr__(self, name: str) -> Any:
            return getattr(stdlib_copy, name)

    original = models.DynamoDBBackend.transact_write_items
    no_snapshot = _NoSnapshot()

    def prior_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[Any] | None:
        """(table, hash, range, item before) per key, or None where moto's copy must stay."""
        saved = []
        for entry in transact_items:
            if len(entry) != 1:
                return None
            ((kind, op),) = entry.items()
            table = backend.tables.get(op.get("TableName"))
            if kind not in {"Put", "Delete", "ConditionCheck"} or table is None:
                return None
            if not table.has_range_key or table.stream_shard is not None:
                return None
            attrs = op.get("Item" if kind == "Put" else "Key") or {}
            if table.hash_key_attr not in attrs or table.range_key_attr not in attrs:
                return None  # moto reports the validation error itself
            h, r = DynamoType(attrs[table.hash_key_attr]), DynamoType(attrs[table.range_key_attr])
            saved.append((table, h, r, table.items.get(h, {}).get(r)))
        return saved

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = prior_items(self, transact_items)
        if saved is None:
            return original(self, transact_items)
        models.copy = no_snapshot  # type: ignore[assignment]
        try:
            return original(self, transact_items)
        except BaseException:
            for table, h, r, before in reversed(saved):
                if before is None:
                    table.items[h].pop(r, None)
                else:
                    table.items[h][r] = before
            raise
        finally:
            models.copy = stdlib_copy

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _moto_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def _quiet_handler() -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):  # type: ignore[misc,valid-type]
        """No access log line per request (the harness sends thousands), and TCP_NODELAY:
        werkzeug writes headers and body in separate sends, and with Nagle on, the body
        waits for the client's delayed ACK — 40 ms on every single DynamoDB call."""

        disable_nagle_algorithm = True

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return QuietHandler


def serve_moto(host: str, port: int) -> None:
    """Entry point of the moto-server subprocess: serialised DynamoDB, then serve."""
    from werkzeug.serving import make_server

    serialize_moto_dynamodb()
    server = make_server(host, port, _moto_app(), threaded=True, request_handler=_quiet_handler())
    print(f"moto {_moto_version()} (DynamoDB serialised) on http://{host}:{port}", flush=True)
    server.serve_forever()


def _moto_version() -> str:
    import moto

    return str(moto.__version__)


# --- common base ---------------------------------------------------------------------------


class DynamoDbEngine(Engine):
    """An engine with an endpoint, a region and a table prefix unique to this start."""

    kind: ClassVar[str] = "dynamodb"
    #: emulators take dummy credentials; real AWS uses the default credential chain
    emulated: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.endpoint_url: str | None = None
        self.region = DEFAULT_REGION
        self.table_prefix = f"parity-{uuid.uuid4().hex[:8]}"
        self.started = False

    def _options(self, table_prefix: str) -> dict[str, Any]:
        options: dict[str, Any] = {"region": self.region, "table_prefix": table_prefix}
        if self.emulated:
            options["credentials"] = dict(DUMMY_CREDENTIALS)
        return options

    def store(self, namespace: str = "") -> Store:
        if not self.started:
            self.start()
        return self._store(namespace, self.endpoint_url, **self._options(self.table_prefix))

    def isolated(self, namespace: str) -> Store:
        """A table prefix of the example's own: the app creates its tables under it."""
        prefix = f"{self.table_prefix}-{namespace}"[:200]
        return self.store(namespace).with_namespace(namespace, options=self._options(prefix))

    def discard(self, store: Store) -> None:
        self.delete_tables(str(store.option("table_prefix")))

    def client(self, service: str) -> Any:
        """A client for this engine's endpoint (dummy credentials when emulated)."""
        import boto3
        from botocore.config import Config

        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        if self.emulated:
            kwargs.update(DUMMY_CREDENTIALS)
        config = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=3)
        session: Any = boto3.session.Session()
        return session.client(service, config=config, **kwargs)

    def delete_tables(self, prefix: str) -> None:
        """Delete every table whose name starts with ``prefix`` (never anyone else's:
        prefixes are unique to this engine start)."""
        client = self.client("dynamodb")
        for page in client.get_paginator("list_tables").paginate():
            for name in page.get("TableNames", []):
                if name.startswith(prefix):
                    with contextlib.suppress(Exception):
                        client.delete_table(TableName=name)

    def _details(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint_url or f"dynamodb.{self.region}.amazonaws.com",
            "region": self.region,
            "table_prefix": self.table_prefix,
        }


class MotoEngine(DynamoDbEngine):
    """moto in this process, behind a loopback HTTP server on a random port."""

    name = "dynamodb@moto"

    def __init__(self) -> None:
        super().__init__()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def probe(self) -> str | None:
        for module in ("moto", "werkzeug", "flask", "boto3"):
            if importlib.util.find_spec(module) is None:
                return f"python package {module!r} missing: pip install 'parity[aws]'"
        return None

    def start(self) -> None:
        if self.started:
            return
        super().start()
        from werkzeug.serving import make_server

        serialize_moto_dynamodb()
        self._server = make_server(
            "127.0.0.1", 0, _moto_app(), threaded=True, request_handler=_quiet_handler()
        )
        port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="parity-moto", daemon=True
        )
        self._thread.start()
        self.endpoint_url = f"http://127.0.0.1:{port}"
        self.started = True

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.started = False

    def info(self) -> EngineInfo:
        return EngineInfo(
            self.name,
            self.kind,
            _moto_version(),
            {**self._details(), "mode": "in-process HTTP server", "serialised": True},
            dict(self.unsupported),
        )


class _ProcessEngine(DynamoDbEngine):
    """An emulator in a child process on 127.0.0.1: free port, log file, cleanup at exit."""

    startup_timeout: float = 30.0

    def __init__(self) -> None:
        super().__init__()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_dir: Path | None = None
        self.log_path: Path | None = None
        self._log_file: Any = None

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def _spawn(self) -> None:
        self.log_dir = Path(tempfile.mkdtemp(prefix=f"parity-{self.name.split('@')[1]}-"))
        self.log_path = self.log_dir / "server.log"
        last_error = ""
        for _ in range(3):  # a port taken between probe and bind: try another
            port = free_port()
            self._log_file = self.log_path.open("ab")
            self.proc = subprocess.Popen(
                self.command(port),
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **DUMMY_ENV, "AWS_DEFAULT_REGION": self.region},
                start_new_session=True,
            )
            atexit.register(self.stop)
            url = f"http://127.0.0.1:{port}"
            if wait_until_answers(url, self.startup_timeout, self.proc):
                self.endpoint_url = url
                return
            last_error = _tail(self.log_path)
            self._terminate()
        raise EngineUnavailable(
            self.name, f"server did not answer; log {self.log_path}:\n{last_error}"
        )

    def _terminate(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def stop(self) -> None:
        """Kill the server (its whole process group); the log stays for the report."""
        self._terminate()
        self.started = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


class MotoServerEngine(_ProcessEngine):
    """A moto server process on 127.0.0.1 (``python -m parity.engines.dynamodb
    moto-server``: stock ``moto.server`` plus the DynamoDB serialisation lock)."""

    name = "dynamodb@moto-server"

    def probe(self) -> str | None:
        for module in ("moto", "werkzeug", "flask", "boto3"):
            if importlib.util.find_spec(module) is None:
                return f"python package {module!r} missing: pip install 'parity[aws]'"
        return None

    def command(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "parity.engines.dynamodb",
            "moto-server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]

    def start(self) -> None:
        if self.started:
            return
        super().start()
        self._spawn()
        self.started = True

    def info(self) -> EngineInfo:
        return EngineInfo(
            self.name,
            self.kind,
            _moto_version(),
            {**self._details(), "pid": self.pid, "log": str(self.log_path), "serialised": True},
            dict(self.unsupported),
        )


# --- dynalite --------------------------------------------------------------------------

DYNALITE_HOME = Path.home() / ".cache" / "parity" / "node"
DYNALITE_INSTALL = (
    f"install it with `npm install --prefix {DYNALITE_HOME} dynalite` "
    "(or `npm install dynalite` in the project root; needs Node.js >= 18), "
    "or point PARITY_DYNALITE_BIN at its cli.js"
)


def find_dynalite() -> Path | None:
    """``PARITY_DYNALITE_BIN``, then ./node_modules, then the parity cache, then PATH."""
    env = os.environ.get("PARITY_DYNALITE_BIN")
    candidates = [Path(env)] if env else []
    for root in (Path.cwd(), Path(__file__).resolve().parents[2], DYNALITE_HOME):
        candidates.append(root / "node_modules" / ".bin" / "dynalite")
    on_path = shutil.which("dynalite")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return None


def dynalite_version(binary: Path) -> str:
    package = binary.resolve().parent / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"


class DynaliteEngine(_ProcessEngine):
    """dynalite (npm, LevelDB-backed DynamoDB emulator).

    It implements neither ``TransactWriteItems`` nor ``UpdateTimeToLive``. Both are probed
    once at start and recorded in ``unsupported``: scenarios needing them (every commit
    needs transactions) are reported unsupported for this engine, never crashed.
    """

    name = "dynamodb@dynalite"

    def __init__(self) -> None:
        super().__init__()
        self.binary: Path | None = None

    def probe(self) -> str | None:
        if shutil.which("node") is None:
            return f"Node.js is not installed; {DYNALITE_INSTALL}"
        if find_dynalite() is None:
            return f"dynalite not found; {DYNALITE_INSTALL}"
        return None

    def command(self, port: int) -> list[str]:
        assert self.binary is not None
        return [str(self.binary), "--port", str(port)]

    def start(self) -> None:
        if self.started:
            return
        super().start()
        self.binary = find_dynalite()
        self._spawn()
        self.started = True
        self.detect_capabilities()

    def detect_capabilities(self) -> dict[str, str]:
        """Try TransactWriteItems and UpdateTimeToLive once on a probe table of our own;
        record what is missing (the table is deleted afterwards)."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client("dynamodb")
        table = f"{self.table_prefix}-capability-probe"
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        probe_item = {"pk": {"S": "__parity_probe__"}}
        checks: dict[str, Any] = {
            "transactions": lambda: client.transact_write_items(
                TransactItems=[{"Put": {"TableName": table, "Item": probe_item}}]
            ),
            "ttl": lambda: client.update_time_to_live(
                TableName=table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},
            ),
        }
        operations = {"transactions": "TransactWriteItems", "ttl": "UpdateTimeToLive"}
        version = dynalite_version(self.binary) if self.binary else "unknown"
        for capability, check in checks.items():
            try:
                check()
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "error")
                if capability == "ttl" and "already enabled" in str(exc).lower():
                    continue
                self.unsupported[capability] = (
                    f"dynalite {version} does not implement {operations[capability]} ({code})"
                )
            except BotoCoreError as exc:
                self.unsupported[capability] = f"{operations[capability]} failed: {exc}"
        with contextlib.suppress(Exception):
            client.delete_table(TableName=table)
        return dict(self.unsupported)

    def info(self) -> EngineInfo:
        version = dynalite_version(self.binary) if self.binary else "unknown"
        return EngineInfo(
            self.name,
            self.kind,
            version,
            {**self._details(), "pid": self.pid, "log": str(self.log_path)},
            dict(self.unsupported),
        )


# --- LocalStack ------------------------------------------------------------------------

LOCALSTACK_IMAGE = "localstack/localstack:latest"


def docker_reachable() -> str | None:
    """``None`` when a Docker engine answers a ping; otherwise why not."""
    try:
        import docker
    except ImportError:
        return "python package 'docker' missing: pip install 'parity[docker]'"
    try:
        client = docker.from_env(timeout=3)
        client.ping()
        client.close()
    except Exception as exc:
        return f"no reachable Docker engine ({type(exc).__name__})"
    return None


class LocalStackEngine(DynamoDbEngine):
    """LocalStack in a container (testcontainers): DynamoDB, SQS and EventBridge.

    Needs ``LOCALSTACK_AUTH_TOKEN`` and a reachable Docker engine. The image is
    ``PARITY_LOCALSTACK_IMAGE`` (default ``localstack/localstack:latest``).
    """

    name = "dynamodb@localstack"

    def __init__(self) -> None:
        super().__init__()
        self.image = os.environ.get("PARITY_LOCALSTACK_IMAGE", LOCALSTACK_IMAGE)
        self._container: Any = None
        self.server_version = "unknown"

    def probe(self) -> str | None:
        missing = []
        if not os.environ.get("LOCALSTACK_AUTH_TOKEN"):
            missing.append("LOCALSTACK_AUTH_TOKEN is not set")
        if importlib.util.find_spec("testcontainers") is None:
            missing.append("python package 'testcontainers' missing: pip install 'parity[docker]'")
        else:
            reason = docker_reachable()
            if reason:
                missing.append(reason)
        return "; ".join(missing) or None

    def start(self) -> None:
        if self.started:
            return
        super().start()
        from testcontainers.localstack import LocalStackContainer

        container = LocalStackContainer(image=self.image, region_name=self.region)
        container.with_services("dynamodb", "sqs", "events")
        container.with_env("LOCALSTACK_AUTH_TOKEN", os.environ["LOCALSTACK_AUTH_TOKEN"])
        try:
            container.start()
        except Exception as exc:
            raise EngineUnavailable(self.name, f"container did not start: {exc}") from exc
        self._container = container
        self.endpoint_url = container.get_url()
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/_localstack/health", timeout=5) as r:
                self.server_version = str(json.load(r).get("version", "unknown"))
        except (OSError, ValueError):
            pass
        self.started = True

    def stop(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None
        self.started = False

    def info(self) -> EngineInfo:
        tag = self.image.rsplit(":", 1)[-1] if ":" in self.image else "latest"
        return EngineInfo(
            self.name,
            self.kind,
            f"{tag} ({self.server_version})",
            {**self._details(), "image": self.image},
            dict(self.unsupported),
        )


# --- any endpoint, real AWS ------------------------------------------------------------


class UrlDynamoDbEngine(DynamoDbEngine):
    """Any DynamoDB-compatible endpoint at ``PARITY_DYNAMODB_URL`` (already running).

    Tables are prefixed ``PARITY_DYNAMODB_TABLE_PREFIX`` (default ``parity``) and reused
    across runs: namespaces isolate, so nothing is created per run and nothing deleted.
    """

    name = "dynamodb@url"

    def __init__(self) -> None:
        super().__init__()
        self.table_prefix = os.environ.get("PARITY_DYNAMODB_TABLE_PREFIX", "parity")
        self.region = os.environ.get("AWS_REGION") or os.environ.get(
            "AWS_DEFAULT_REGION", DEFAULT_REGION
        )

    def probe(self) -> str | None:
        if not os.environ.get("PARITY_DYNAMODB_URL"):
            return "set PARITY_DYNAMODB_URL to a DynamoDB endpoint (e.g. http://127.0.0.1:8000)"
        return None

    def start(self) -> None:
        if self.started:
            return
        super().start()
        self.endpoint_url = os.environ["PARITY_DYNAMODB_URL"]
        self.started = True

    def info(self) -> EngineInfo:
        version = "unknown"
        if self.endpoint_url:
            with contextlib.suppress(OSError, ValueError):
                url = f"{self.endpoint_url.rstrip('/')}/_localstack/health"
                with urllib.request.urlopen(url, timeout=2) as r:
                    version = f"localstack {json.load(r).get('version', '?')}"
        return EngineInfo(self.name, self.kind, version, self._details())


class AwsDynamoDbEngine(DynamoDbEngine):
    """Real AWS, opt-in with ``PARITY_ALLOW_AWS=1``; default credential chain and region.

    Uses a unique table prefix per start (``parity-<random>``) and deletes every table
    under it on stop (other resources the app made are its binding's to release).
    """

    name = "dynamodb@aws"
    emulated = False

    def __init__(self) -> None:
        super().__init__()
        self.region = os.environ.get("AWS_REGION") or os.environ.get(
            "AWS_DEFAULT_REGION", DEFAULT_REGION
        )

    def probe(self) -> str | None:
        if os.environ.get("PARITY_ALLOW_AWS") != "1":
            return (
                "real AWS is opt-in: set PARITY_ALLOW_AWS=1 (creates and deletes "
                "pay-per-request tables named parity-<random>-ledger)"
            )
        try:
            import boto3
        except ImportError:
            return "python package 'boto3' missing: pip install 'parity[aws]'"
        if boto3.session.Session().get_credentials() is None:
            return "no AWS credentials in the default chain (env, profile, SSO, role)"
        return None

    def start(self) -> None:
        if self.started:
            return
        super().start()
        self.endpoint_url = None
        self.started = True
        atexit.register(self.stop)

    def stop(self) -> None:
        if not self.started:
            return
        self.delete_tables(self.table_prefix)  # the prefix is unique to this start
        self.started = False

    def info(self) -> EngineInfo:
        import botocore

        return EngineInfo(
            self.name, self.kind, f"aws (botocore {botocore.__version__})", self._details()
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parity.engines.dynamodb")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("moto-server", help="moto server with serialised DynamoDB")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    if args.command == "moto-server":
        serve_moto(args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
