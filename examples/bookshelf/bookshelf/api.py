"""The routes: ``build_router(fixes)`` makes them with the fixes named switched on.

(No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations,
and they name models that ``build_router`` picks at run time.)"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bookshelf import schemas as s
from bookshelf.models import Base, Book, Shelf

#: every fix, by name; the README tells which divergence each one removed
FIXES = frozenset(
    {
        "utc",  # timestamps read back with their UTC offset (SQLite stores none)
        "foreign_keys",  # SQLite enforces FOREIGN KEY only after PRAGMA foreign_keys=ON
        "order",  # lists have an ORDER BY (PostgreSQL moves an updated row to the end)
        "nulls_last",  # sort=year puts books without a year last (SQLite sorts NULL first)
        "search",  # ?q= is case-insensitive and literal (LIKE is neither on PostgreSQL)
        "ids",  # SQLite AUTOINCREMENT: a deleted row's id is never handed out again
        "bounds",  # 422 for what the database cannot take (PostgreSQL: 500; SQLite: stored)
    }
)
Out = TypeVar("Out", bound=BaseModel)
Row = TypeVar("Row", Shelf, Book)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": s.Message}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": s.Message}}


@dataclass(frozen=True)
class Settings:
    sessions: sessionmaker[Session]
    fixes: frozenset[str]
    clock: Callable[[], datetime]

    def present(self, model: type[Out], row: Base) -> Out:
        out = model.model_validate(row)
        if "utc" not in self.fixes:
            return out
        naive = {k: v for k, v in out if isinstance(v, datetime) and v.tzinfo is None}
        return out.model_copy(update={k: v.replace(tzinfo=UTC) for k, v in naive.items()})


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(settings: Annotated[Settings, Depends(get_settings)]) -> Iterator[Session]:
    with settings.sessions() as session:
        yield session


Config = Annotated[Settings, Depends(get_settings)]
DB = Annotated[Session, Depends(get_db)]


def get_or_404(db: Session, config: Settings, model: type[Row], id: int) -> Row:
    # an id past INTEGER cannot exist, but PostgreSQL fails to even compare it (a 500)
    out_of_range = "bounds" in config.fixes and not 1 <= id <= s.MAX_ID
    row = None if out_of_range else db.get(model, id)
    if row is None:
        raise HTTPException(404, f"{model.__name__.lower()} not found")
    return row


def check_shelf(db: Session, config: Settings, shelf_id: int | None) -> None:
    if "foreign_keys" in config.fixes and shelf_id is not None and db.get(Shelf, shelf_id) is None:
        raise HTTPException(404, "shelf not found")


def commit(db: Session, conflict: str) -> None:
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise HTTPException(409, conflict) from exc


def build_router(fixes: frozenset[str]) -> APIRouter:
    # Today's models, or the first version's (no bounds): picked here so that the OpenAPI
    # schema shows what is checked. Type checkers see today's; the others subclass them.
    if TYPE_CHECKING:
        ShelfIn: TypeAlias = s.ShelfIn
        BookIn: TypeAlias = s.BookIn
        BookPatch: TypeAlias = s.BookPatch
        BookQuery: TypeAlias = s.BookQuery
    elif "bounds" in fixes:
        ShelfIn, BookIn, BookPatch, BookQuery = s.ShelfIn, s.BookIn, s.BookPatch, s.BookQuery
    else:
        ShelfIn, BookIn = s.NaiveShelfIn, s.NaiveBookIn
        BookPatch, BookQuery = s.NaiveBookPatch, s.NaiveBookQuery
    router = APIRouter(responses={400: {"model": s.Message}})  # a body that is not JSON

    @router.post("/shelves", status_code=201, responses=CONFLICT)
    def create_shelf(body: ShelfIn, db: DB, config: Config) -> s.ShelfOut:
        shelf = Shelf(name=body.name, created_at=config.clock())
        db.add(shelf)
        commit(db, "a shelf with this name exists")
        db.refresh(shelf)
        return config.present(s.ShelfOut, shelf)

    @router.get("/shelves")
    def list_shelves(db: DB, config: Config) -> list[s.ShelfOut]:
        stmt = select(Shelf).order_by(Shelf.id) if "order" in fixes else select(Shelf)
        return [config.present(s.ShelfOut, shelf) for shelf in db.scalars(stmt)]

    @router.get("/shelves/{shelf_id}", responses=NOT_FOUND)
    def get_shelf(shelf_id: int, db: DB, config: Config) -> s.ShelfOut:
        return config.present(s.ShelfOut, get_or_404(db, config, Shelf, shelf_id))

    @router.patch("/shelves/{shelf_id}", responses=NOT_FOUND | CONFLICT)
    def rename_shelf(shelf_id: int, body: ShelfIn, db: DB, config: Config) -> s.ShelfOut:
        shelf = get_or_404(db, config, Shelf, shelf_id)
        shelf.name = body.name
        commit(db, "a shelf with this name exists")
        db.refresh(shelf)
        return config.present(s.ShelfOut, shelf)

    @router.delete("/shelves/{shelf_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
    def delete_shelf(shelf_id: int, db: DB, config: Config) -> Response:
        shelf = get_or_404(db, config, Shelf, shelf_id)
        if "foreign_keys" in fixes and db.scalar(select(Book.id).filter_by(shelf_id=shelf_id)):
            raise HTTPException(409, "the shelf still has books")
        db.delete(shelf)
        db.commit()
        return Response(status_code=204)

    @router.post("/books", status_code=201, responses=NOT_FOUND | CONFLICT)
    def create_book(body: BookIn, db: DB, config: Config) -> s.BookOut:
        check_shelf(db, config, body.shelf_id)
        now = config.clock()
        book = Book(**body.model_dump(), created_at=now, updated_at=now)
        db.add(book)
        commit(db, "the shelf already has a book with this title")
        db.refresh(book)
        return config.present(s.BookOut, book)

    @router.get("/books")
    def list_books(query: Annotated[BookQuery, Query()], db: DB, config: Config) -> s.BookPage:
        stmt = select(Book)
        for column in ("shelf_id", "author", "status"):
            if (value := getattr(query, column)) is not None:
                stmt = stmt.where(getattr(Book, column) == value)
        if query.q and "search" in fixes:
            stmt = stmt.where(Book.title.icontains(query.q, autoescape=True))
        elif query.q:
            stmt = stmt.where(Book.title.like(f"%{query.q}%"))
        total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        if query.sort == "year":
            stmt = stmt.order_by(Book.year.nulls_last() if "nulls_last" in fixes else Book.year)
        elif query.sort == "title":
            stmt = stmt.order_by(Book.title)
        if "order" in fixes:
            stmt = stmt.order_by(Book.id)  # the tie-breaker, or the only order
        rows = db.scalars(stmt.limit(query.limit).offset(query.offset))
        items = [config.present(s.BookOut, book) for book in rows]
        return s.BookPage(items=items, total=total, limit=query.limit, offset=query.offset)

    @router.get("/books/{book_id}", responses=NOT_FOUND)
    def get_book(book_id: int, db: DB, config: Config) -> s.BookOut:
        return config.present(s.BookOut, get_or_404(db, config, Book, book_id))

    @router.patch("/books/{book_id}", responses=NOT_FOUND | CONFLICT)
    def update_book(book_id: int, body: BookPatch, db: DB, config: Config) -> s.BookOut:
        book = get_or_404(db, config, Book, book_id)
        # null leaves a field as it is, except year (a book may have none)
        changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
        if "year" in body.model_fields_set:
            changes["year"] = body.year
        check_shelf(db, config, changes.get("shelf_id"))
        for field, value in changes.items():
            setattr(book, field, value)
        book.updated_at = config.clock()
        commit(db, "the shelf already has a book with this title")
        db.refresh(book)
        return config.present(s.BookOut, book)

    @router.delete("/books/{book_id}", status_code=204, responses=NOT_FOUND)
    def delete_book(book_id: int, db: DB, config: Config) -> Response:
        db.delete(get_or_404(db, config, Book, book_id))
        db.commit()
        return Response(status_code=204)

    return router
