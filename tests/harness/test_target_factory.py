"""Per-example isolation without per-example cost: the factory rebinds a released app to
the next namespace (same app object, fresh state) and drops the released namespace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parity import AppBinding, Store
from parity.engines.base import Engine
from parity.engines.registry import create_engine
from parity.targets.factory import AppTargetFactory
from reference_app.bootstrap import create_app
from scenarios.binding import ReferenceBinding

SIGN_UP = {"email": "ada@example.com", "name": "Ada", "score": 700}


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    engine = create_engine("sqlite")
    engine.start()
    yield engine
    engine.stop()


def test_a_released_app_is_rebound_to_a_fresh_namespace(sqlite_engine: Engine) -> None:
    factory = AppTargetFactory("sqlite", sqlite_engine, ReferenceBinding())
    first = factory.new_target("ns_1")
    created = first.request("POST", "/v1/users", None, SIGN_UP)
    assert created.status == 201
    assert first.request("POST", "/v1/users", None, SIGN_UP).status == 409  # same email
    factory.release(first)
    factory.flush()  # the drop ran; the app is warm again
    second = factory.new_target("ns_2")
    assert getattr(second, "app") is getattr(first, "app")  # noqa: B009 - the warm app
    # a fresh namespace, clock and id sequence: the same sign-up succeeds with the same id
    again = second.request("POST", "/v1/users", None, SIGN_UP)
    assert again.status == 201
    assert again.json()["id"] == created.json()["id"]
    assert again.json()["created_at"] == created.json()["created_at"]
    factory.release(second)
    factory.close()


def test_a_released_namespace_is_dropped(sqlite_engine: Engine) -> None:
    factory = AppTargetFactory("sqlite", sqlite_engine, ReferenceBinding())
    target = factory.new_target("ns_drop")
    assert target.request("POST", "/v1/users", None, SIGN_UP).status == 201
    backend = getattr(target, "app").state.container.backend  # noqa: B009
    factory.release(target)
    factory.close()  # drops run in the background; close waits for them
    with backend.unit_of_work() as uow:
        assert uow.get_user_by_email(SIGN_UP["email"]) is None


class PlainBinding(AppBinding):
    """No hooks but build_app, and engine isolation: a file of its own per example."""

    def build_app(self, store: Store) -> object:
        return create_app(ReferenceBinding().store_settings(store))


def test_apps_without_a_rebind_hook_are_built_per_example(sqlite_engine: Engine) -> None:
    factory = AppTargetFactory("sqlite", sqlite_engine, PlainBinding())
    first = factory.new_target("ns_a")
    factory.release(first)
    factory.flush()
    second = factory.new_target("ns_b")
    assert getattr(second, "app") is not getattr(first, "app")  # noqa: B009
    factory.release(second)
    factory.close()
