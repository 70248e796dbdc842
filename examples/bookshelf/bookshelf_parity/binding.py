"""The binding: a plain app factory, no hooks.

Parity's engines hand every example its own place (a SQLite file, a PostgreSQL schema
named in the URL's ``search_path``) and remove it afterwards; the app creates its tables
at start-up. All the binding does is turn the store's URL into the app.

``BOOKSHELF_NAIVE=1`` (every fix off) or ``BOOKSHELF_NAIVE=order,ids`` (those off) runs
the first version of the app, to reproduce the divergences the README tells about.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from parity import Store

from bookshelf import create_app


def app(store: Store) -> FastAPI:
    url = (store.url or "").replace("postgresql://", "postgresql+psycopg://", 1)
    return create_app(url, naive=naive_from_env())


def naive_from_env() -> bool | frozenset[str]:
    value = os.environ.get("BOOKSHELF_NAIVE", "").strip()
    if value.lower() in ("", "0", "false", "no"):
        return False
    if value.lower() in ("1", "true", "yes", "all"):
        return True
    return frozenset(name.strip() for name in value.split(",") if name.strip())
