"""Request and response bodies.

The plain models accept only what the database takes (fix "bounds"): names that fit
their column and hold no NUL character, years and ids that fit an INTEGER, a limit of 1
to 100 and no negative offset. The ``Naive*`` models are what the first version
accepted, the right types and no bounds: a 300-character title, a NUL or a year past
INTEGER was a 500 on PostgreSQL and stored on SQLite, and ``limit=-1`` a 500 on
PostgreSQL and "no limit" on SQLite.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bookshelf.models import NAME_MAX

MAX_ID = 2**31 - 1  # INTEGER: the largest id PostgreSQL can store (and compare with)
MAX_LIMIT = 100
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold a NUL character (SQLite stores it)
Text = Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=NO_NUL)]
Filter = Annotated[str, Field(max_length=NAME_MAX, pattern=NO_NUL)]
Year = Annotated[int, Field(ge=-9999, le=9999)]
Status = Literal["unread", "reading", "read"]


class ShelfIn(BaseModel):
    name: Text


class BookIn(BaseModel):
    shelf_id: Id
    title: Text
    author: Text
    year: Year | None = None
    status: Status = "unread"


class BookPatch(BaseModel):
    shelf_id: Id | None = None
    title: Text | None = None
    author: Text | None = None
    year: Year | None = None
    status: Status | None = None


class BookQuery(BaseModel):
    """``GET /books``: filters, a sort and one page."""

    shelf_id: Id | None = None
    author: Filter | None = None
    status: Status | None = None
    q: Filter | None = None  # part of the title, in any case
    sort: Literal["title", "year"] | None = None
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=1_000_000)


class NaiveShelfIn(ShelfIn):
    name: str


class NaiveBookIn(BookIn):
    shelf_id: int
    title: str
    author: str
    year: int | None = None


class NaiveBookPatch(BookPatch):
    shelf_id: int | None = None
    title: str | None = None
    author: str | None = None
    year: int | None = None


class NaiveBookQuery(BookQuery):
    shelf_id: int | None = None
    author: str | None = None
    q: str | None = None
    limit: int = 20
    offset: int = 0


class ShelfOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    created_at: datetime


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shelf_id: int
    title: str
    author: str
    year: int | None
    status: Status
    created_at: datetime
    updated_at: datetime


class BookPage(BaseModel):
    items: list[BookOut]
    total: int
    limit: int
    offset: int


class Message(BaseModel):
    detail: str
