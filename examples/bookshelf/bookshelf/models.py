"""Tables: a shelf has many books; shelf names are unique, and so is a title on a shelf."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAME_MAX = 200


class Base(DeclarativeBase):
    pass


class Shelf(Base):
    __tablename__ = "shelves"
    # fix "ids": AUTOINCREMENT, so SQLite never hands out a deleted row's id again
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Book(Base):
    __tablename__ = "books"
    __table_args__ = (
        UniqueConstraint("shelf_id", "title", name="uq_books_shelf_title"),
        {"sqlite_autoincrement": True},  # fix "ids"
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("shelves.id"), index=True)
    title: Mapped[str] = mapped_column(String(NAME_MAX))
    author: Mapped[str] = mapped_column(String(NAME_MAX), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="unread")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
