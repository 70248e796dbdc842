import sqlite3
import threading

from fastapi import FastAPI, HTTPException


def create_app(database_url: str) -> FastAPI:
    path = database_url.removeprefix("sqlite:///") if database_url != "sqlite://" else ":memory:"
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, name TEXT)")
    lock = threading.Lock()
    app = FastAPI()

    @app.post("/notes", status_code=201)
    def create(body: dict) -> dict:
        with lock:
            cur = db.execute("INSERT INTO notes (name) VALUES (?)", (body["name"],))
            db.commit()
        return {"id": cur.lastrowid, "name": body["name"]}

    @app.get("/notes/{ident}")
    def read(ident: int) -> dict:
        row = db.execute("SELECT id, name FROM notes WHERE id = ?", (ident,)).fetchone()
        if row is None:
            raise HTTPException(404)
        return {"id": row[0], "name": row[1]}

    @app.get("/notes")
    def listing() -> list:
        return [
            {"id": r[0], "name": r[1]} for r in db.execute("SELECT id, name FROM notes ORDER BY id")
        ]

    @app.delete("/notes/{ident}", status_code=204)
    def delete(ident: int) -> None:
        with lock:
            db.execute("DELETE FROM notes WHERE id = ?", (ident,))
            db.commit()

    return app
