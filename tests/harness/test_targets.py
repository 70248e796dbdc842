from __future__ import annotations

from parity.targets import AsgiTarget, HttpTarget, serve
from tests.harness.toyapp import make_app


def test_asgi_target_round_trip_and_lifespan_once() -> None:
    app = make_app()
    target = AsgiTarget(app, "toy")
    try:
        created = target.request("POST", "/items", json={"value": 3})
        assert created.status == 201
        assert created.header("ETag") == '"1"'
        assert created.json()["value"] == 3
        listing = target.request("GET", "/items?limit=5")
        assert [i["value"] for i in listing.json()["items"]] == [3]
        assert listing.headers["content-type"].startswith("application/json")
        assert app.state.lifespan_runs == 1
    finally:
        target.close()


def test_asgi_target_reports_validation_errors_not_exceptions() -> None:
    target = AsgiTarget(make_app(), "toy")
    try:
        assert target.request("POST", "/items", json={"value": "x"}).status == 422
        assert target.request("GET", "/missing").status == 404
    finally:
        target.close()


def test_http_target_against_real_uvicorn_server() -> None:
    with serve(make_app()) as url:
        assert url.startswith("http://127.0.0.1:")
        target = HttpTarget(url, "toy-http")
        try:
            assert target.request("POST", "/items", json={"value": 7}).status == 201
            got = target.request("GET", "/items")
            assert got.json()["items"][0]["value"] == 7
            assert got.elapsed > 0
        finally:
            target.close()
