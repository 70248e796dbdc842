"""Bookshelf: a small FastAPI + SQLAlchemy 2 CRUD API for shelves and books."""

from bookshelf.api import FIXES
from bookshelf.app import create_app

__all__ = ["FIXES", "create_app"]
