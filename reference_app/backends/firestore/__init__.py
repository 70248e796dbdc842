"""Firestore backend (the official ``google-cloud-firestore`` client, native mode).

One root document per namespace holds every collection (``codec.py`` has the layout), a
commit is one atomic Firestore commit whose writes carry the change set's conditions as
preconditions (``unit_of_work.py``), listings are single queries ordered by
(``created_at``, ``id``) with ``start_after`` cursors.

Production needs these composite indexes (the emulator needs none; a query without its
index fails with ``FAILED_PRECONDITION`` "The query requires an index")::

    card_requests: user_id ==, created_at desc, id desc
    card_requests: status ==, created_at desc, id desc
    card_requests: user_id ==, status ==, created_at desc, id desc
    card_requests: created_at desc, id desc
    cards:         user_id ==, created_at desc, id desc
    cards:         created_at desc, id desc
    transactions:  card_id ==, created_at desc, id desc
    transactions:  card_id ==, type ==, created_at desc, id desc
    events:        subject ==, time asc, id asc
    events:        time asc, id asc
    events:        status ==, subject asc, sequence asc

and a TTL policy on ``idempotency.expire_at`` (optional: expiry is the service's decision).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore

from reference_app.backends.firestore.codec import USERS, namespace_doc_id
from reference_app.backends.firestore.unit_of_work import (
    READ_RETRY,
    RPC_TIMEOUT,
    UNREACHABLE,
    FirestoreUnitOfWork,
    Store,
    unavailable,
)
from reference_app.service_layer.unit_of_work import Backend, BackendUnavailable
from reference_app.settings import Settings

log = logging.getLogger(__name__)

#: documents deleted per commit when a namespace is dropped (Firestore allows 500 writes)
DELETE_BATCH = 400
DEFAULT_EMULATOR_PROJECT = "parity-local"

_clients: dict[tuple[str | None, str | None], Any] = {}
_clients_lock = threading.Lock()


def make_client(project: str | None, emulator_host: str | None) -> Any:
    """A client for ``project``; with ``emulator_host`` an insecure channel to it and
    anonymous credentials, so real credentials are never offered to a local process.

    The emulator host is set on the client, not through ``FIRESTORE_EMULATOR_HOST`` in
    ``os.environ``: two apps in one process (two engines) may use two emulators.
    """
    if emulator_host:
        client = firestore.Client(
            project=project or DEFAULT_EMULATOR_PROJECT, credentials=AnonymousCredentials()
        )
        # The client reads FIRESTORE_EMULATOR_HOST once, in its constructor, into this
        # attribute; every channel and the emulator's auth header are derived from it.
        client._emulator_host = emulator_host
        return client
    return firestore.Client(project=project)


def shared_client(project: str | None, emulator_host: str | None) -> Any:
    """One client per (project, emulator) per process: a client owns a gRPC channel, and
    the harness builds an app per example. Clients are thread-safe."""
    key = (project, emulator_host)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = make_client(project, emulator_host)
        return client


def _version() -> str:
    from google.cloud.firestore_v1 import __version__

    return str(__version__)


class FirestoreBackend(Backend):
    name = "firestore"

    def __init__(self, settings: Settings, *, client: Any | None = None) -> None:
        self.settings = settings
        self.namespace = settings.namespace
        self.emulator_host = settings.firestore_emulator_host
        self.client = client or shared_client(settings.firestore_project, self.emulator_host)
        root = self.client.collection(settings.table_prefix).document(
            namespace_doc_id(settings.namespace)
        )
        self.store = Store(client=self.client, root=root)

    @classmethod
    def from_settings(cls, settings: Settings) -> FirestoreBackend:
        return cls(settings)

    def unit_of_work(self) -> FirestoreUnitOfWork:
        uow = FirestoreUnitOfWork(self.store)
        uow.crash = self.crash
        return uow

    def reopen(self) -> FirestoreBackend:
        return type(self)(self.settings)

    def check_ready(self) -> None:
        """One tiny query, answered within seconds or the store is not ready (10 s: a
        freshly started emulator's first query loads its query engine)."""
        query = self.store.col(USERS).limit(1)
        try:
            list(query.stream(retry=None, timeout=10.0))
        except (*UNREACHABLE, gexc.GoogleAPICallError) as exc:
            raise BackendUnavailable(f"Firestore not ready: {exc}") from exc

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "engine": "emulator" if self.emulator_host else "firestore",
            "endpoint": self.emulator_host or "firestore.googleapis.com",
            "project": self.client.project,
            "root": self.store.root.path,
            "namespace": self.namespace,
            "version": f"google-cloud-firestore {_version()}",
        }

    def drop_namespace(self) -> None:
        """Delete every document under this namespace's root: list the subcollections that
        exist (one call), read their document ids (``select([])`` reads no fields), delete
        in commits of :data:`DELETE_BATCH` (an empty namespace costs the one listing)."""
        try:
            refs = [
                doc.reference
                for col in self.store.root.collections(retry=READ_RETRY, timeout=RPC_TIMEOUT)
                for doc in col.select([]).stream(retry=READ_RETRY, timeout=RPC_TIMEOUT)
            ]
            for start in range(0, len(refs), DELETE_BATCH):
                batch = self.client.batch()
                for ref in refs[start : start + DELETE_BATCH]:
                    batch.delete(ref)
                batch.commit(timeout=RPC_TIMEOUT)
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc


__all__ = ["FirestoreBackend", "make_client", "shared_client"]
