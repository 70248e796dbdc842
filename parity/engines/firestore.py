"""Firestore engines: the Cloud Firestore emulator (started here) or one already running.

An engine hands out an emulator host and a Firestore project id, nothing else: the app
reaches the emulator with its own client. Store options:

- ``project`` — a project id unique to this engine start (``parity-<random>``): the
  emulator keeps every project apart, so a run never sees another run's documents;
- ``emulator_host`` — ``127.0.0.1:PORT``, what ``FIRESTORE_EMULATOR_HOST`` would hold
  (``store.url`` is the same endpoint as ``http://127.0.0.1:PORT``).

Apps that isolate examples themselves share the project (a namespace is theirs to map,
e.g. a root document per namespace). For the others every example gets a project of its
own (``isolated``): free to make, and ``discard`` empties it with the emulator's REST
``DELETE /emulator/v1/projects/{project}/databases/(default)/documents``.

``firestore@emulator`` runs ``gcloud emulators firestore start`` in a process group of
its own: gcloud is a Python launcher that starts a shell script that starts Java, so
stopping kills the whole group (never leaving a JVM behind), at ``stop()`` or at exit.
The emulator's log is kept in a temp dir and named by ``info()``.

The emulator does not implement TTL deletion (documents past a TTL field stay): apps
must treat expiry themselves, which the reference app does anyway.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from parity.binding import Store
from parity.engines.base import Engine, EngineInfo, EngineUnavailable
from parity.reaper import disown, remove_temp_dir, temp_dir

URL_ENV = "PARITY_FIRESTORE_URL"
EMULATOR_ENV = "FIRESTORE_EMULATOR_HOST"
_DATABASE = "(default)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def host_of(url: str) -> str:
    """``http://127.0.0.1:8080/`` or ``127.0.0.1:8080`` -> ``127.0.0.1:8080``."""
    return re.sub(r"^[a-z]+://", "", url.strip()).rstrip("/")


def project_for(base: str, namespace: str) -> str:
    """A project id for one example: ``base`` plus the namespace, lowercase, ``[a-z0-9-]``."""
    tail = re.sub(r"[^a-z0-9-]", "-", namespace.lower()).strip("-") or uuid.uuid4().hex[:8]
    return f"{base}-{tail}"[:100]


def answers(host: str, timeout: float = 1.0) -> bool:
    """Does an emulator answer ``GET /`` on ``host`` (it says ``Ok``)?"""
    try:
        with urllib.request.urlopen(f"http://{host}/", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def clear_project(host: str, project: str, timeout: float = 30.0) -> None:
    """Delete every document of ``project`` on the emulator at ``host`` (one request)."""
    url = f"http://{host}/emulator/v1/projects/{project}/databases/{_DATABASE}/documents"
    request = urllib.request.Request(url, method="DELETE")
    with urllib.request.urlopen(request, timeout=timeout):
        pass


def warm_up(host: str) -> None:
    """One write, query and delete over REST in a throwaway project: the emulator loads
    its query and commit paths on first use (seconds of JVM warm-up) — here, not inside
    the first example's timed request."""
    project = f"parity-warmup-{uuid.uuid4().hex[:8]}"
    base = f"http://{host}/v1/projects/{project}/databases/{_DATABASE}/documents"
    requests = [
        (f"{base}/warm?documentId=up", {"fields": {"n": {"integerValue": "1"}}}),
        (
            f"{base}:runQuery",
            {"structuredQuery": {"from": [{"collectionId": "warm"}], "limit": 1}},
        ),
    ]
    with contextlib.suppress(OSError, ValueError):
        for url, body in requests:
            request = urllib.request.Request(
                url,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=30):
                pass
        clear_project(host, project)


def sdk_root() -> Path | None:
    """The Google Cloud SDK directory that the ``gcloud`` on PATH belongs to."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    root = Path(gcloud).resolve().parent.parent
    return root if (root / "lib").is_dir() else None


def emulator_version(root: Path | None = None) -> str:
    """``1.19.9 (gcloud 528.0.0)`` from the SDK's component snapshot, or ``unknown``."""
    root = root or sdk_root()
    if root is None:
        return "unknown"
    version = "unknown"
    snapshot = root / ".install" / "cloud-firestore-emulator.snapshot.json"
    with contextlib.suppress(OSError, ValueError, KeyError, StopIteration):
        components = json.loads(snapshot.read_text())["components"]
        entry = next(c for c in components if c["id"] == "cloud-firestore-emulator")
        version = str(entry["version"]["version_string"])
    with contextlib.suppress(OSError):
        version += f" (gcloud {(root / 'VERSION').read_text().strip()})"
    return version


def java_problem() -> str | None:
    """``None`` when a Java 11+ runtime is on PATH; otherwise why not."""
    java = shutil.which("java")
    if java is None:
        return "Java is not installed (the emulator needs a JRE 11+, e.g. openjdk-17-jre)"
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`java -version` failed: {exc}"
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if match is None:
        return None  # an unusual banner: let the emulator decide
    major = int(match[1]) if match[1] != "1" else int(match[2] or 0)
    if major < 11:
        return f"Java {major} is too old for the Firestore emulator (needs 11+)"
    return None


class _FirestoreEngine(Engine):
    """Shared by both engines: stores, project-per-example isolation, clean-up."""

    kind = "firestore"

    def __init__(self) -> None:
        super().__init__()
        self.host: str | None = None
        #: unique per engine start: a shared emulator never mixes two runs
        self.project = f"parity-{uuid.uuid4().hex[:10]}"
        self._projects: set[str] = set()

    def _require_host(self) -> str:
        if self.host is None:
            raise EngineUnavailable(self.name, "engine not started")
        return self.host

    def _project_store(self, namespace: str, project: str) -> Store:
        host = self._require_host()
        return self._store(namespace, f"http://{host}", project=project, emulator_host=host)

    def store(self, namespace: str = "") -> Store:
        return self._project_store(namespace, self.project)

    def isolated(self, namespace: str) -> Store:
        """A project of the example's own: nothing to create (the emulator makes a project
        on its first write)."""
        project = project_for(self.project, namespace)
        self._projects.add(project)
        return self._project_store(namespace, project)

    def discard(self, store: Store) -> None:
        project = store.option("project")
        if project and self.host is not None:
            clear_project(self.host, str(project))
            self._projects.discard(str(project))

    def _clear_all(self) -> None:
        """Empty every project this start used (a borrowed emulator is left as found)."""
        if self.host is None:
            return
        for project in sorted({self.project, *self._projects}):
            with contextlib.suppress(OSError):
                clear_project(self.host, project, timeout=5)
        self._projects.clear()

    def _details(self) -> dict[str, Any]:
        return {
            "emulator_host": self.host,
            "project": self.project,
            "ttl_deletion": "not implemented by the emulator (expired documents stay)",
        }


class EmulatorFirestoreEngine(_FirestoreEngine):
    """``gcloud emulators firestore start`` on 127.0.0.1 and a free port."""

    name = "firestore@emulator"
    START_TIMEOUT_S = 90.0
    STOP_TIMEOUT_S = 10.0

    def __init__(self) -> None:
        super().__init__()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_dir: Path | None = None
        self.log_path: Path | None = None
        self._log: Any = None
        self._atexit = False
        self._version: str | None = None

    def probe(self) -> str | None:
        root = sdk_root()
        if root is None:
            return (
                "gcloud is not installed (apt-get install google-cloud-cli "
                "google-cloud-cli-firestore-emulator)"
            )
        jar = root / "platform" / "cloud-firestore-emulator" / "cloud-firestore-emulator.jar"
        if not jar.exists():
            return (
                "the Firestore emulator component is missing "
                "(apt-get install google-cloud-cli-firestore-emulator)"
            )
        return java_problem()

    def command(self, port: int) -> list[str]:
        gcloud = shutil.which("gcloud") or "gcloud"
        return [
            gcloud,
            "emulators",
            "firestore",
            "start",
            f"--host-port=127.0.0.1:{port}",
            "--quiet",
        ]

    def start(self) -> None:
        if self.host is not None:
            return
        super().start()  # probe
        if not self._atexit:
            atexit.register(self.stop)
            self._atexit = True
        self.log_dir = temp_dir("firestore")
        self.log_path = self.log_dir / "emulator.log"
        # gcloud writes its config and logs under CLOUDSDK_CONFIG: a private one keeps a
        # parallel run (or a read-only home) from interfering.
        env = {
            **os.environ,
            "CLOUDSDK_CONFIG": str(self.log_dir / "gcloud-config"),
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "1",
            "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
        }
        env.pop(EMULATOR_ENV, None)
        last = ""
        for _ in range(2):  # a port taken between choosing and binding: one more try
            port = _free_port()
            self._log = self.log_path.open("ab")
            self.proc = subprocess.Popen(
                self.command(port),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: gcloud, sh and java
            )
            host = f"127.0.0.1:{port}"
            if self._wait_ready(host):
                self.host = host
                warm_up(host)
                return
            last = _tail(self.log_path)
            self._terminate()
        disown(self.log_dir)  # kept: the error names the log
        self.log_dir = None
        raise EngineUnavailable(
            self.name,
            f"emulator did not answer within {self.START_TIMEOUT_S:.0f}s; "
            f"log {self.log_path}:\n{last}",
        )

    def _wait_ready(self, host: str) -> bool:
        deadline = time.monotonic() + self.START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            if answers(host, timeout=1.0):
                return True
            time.sleep(0.2)
        return False

    def _terminate(self) -> None:
        """SIGTERM the whole group, wait, SIGKILL whatever is left (a JVM included)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_group(proc, self.STOP_TIMEOUT_S)
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        """Stop the emulator and every process it started, remove its temp dir (log,
        gcloud config); safe to call twice. Only an emulator that did not start keeps
        its dir: the error names the log."""
        self._terminate()
        if self.log_dir is not None:
            remove_temp_dir(self.log_dir)
            self.log_dir = None
        self.host = None
        self._projects.clear()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def info(self) -> EngineInfo:
        if self._version is None:
            self._version = emulator_version()
        return EngineInfo(
            self.name,
            self.kind,
            self._version,
            {**self._details(), "pid": self.pid},
            dict(self.unsupported),
        )


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """End ``proc``'s process group (``proc`` leads it: ``start_new_session``)."""
    pgid = proc.pid
    for sig, wait_s in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        if not _group_alive(pgid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)
            if proc.poll() is not None and not _group_alive(pgid):
                break
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=1)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class UrlFirestoreEngine(_FirestoreEngine):
    """An emulator already running at ``PARITY_FIRESTORE_URL`` or ``FIRESTORE_EMULATOR_HOST``
    (``host:port`` or ``http://host:port``). Its projects are unique to this start and
    emptied at stop, so the emulator is left as it was found."""

    name = "firestore@url"

    def probe(self) -> str | None:
        if not (os.environ.get(URL_ENV) or os.environ.get(EMULATOR_ENV)):
            return f"set {URL_ENV} or {EMULATOR_ENV} to a Firestore emulator (host:port)"
        return None

    def start(self) -> None:
        if self.host is not None:
            return
        super().start()
        host = host_of(os.environ.get(URL_ENV) or os.environ[EMULATOR_ENV])
        if not answers(host, timeout=3.0):
            raise EngineUnavailable(self.name, f"no Firestore emulator answers at http://{host}/")
        self.host = host
        atexit.register(self.stop)

    def stop(self) -> None:
        self._clear_all()
        self.host = None

    def info(self) -> EngineInfo:
        return EngineInfo(self.name, self.kind, "emulator (version not reported)", self._details())
