from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from parity.lockstep.session import LockstepSession
from tests.harness.toyapp import ToyFactory


@pytest.fixture
def toy_session() -> Iterator[Callable[..., LockstepSession]]:
    """Build lockstep sessions over toy apps: ``toy_session(bug=True)`` plants a bug in
    the second backend; ``id_offset`` gives it different raw ids and cursors."""
    sessions: list[LockstepSession] = []

    def make(bug: bool = False, id_offset: int = 0, seed: int = 0) -> LockstepSession:
        session = LockstepSession(
            {"ref": ToyFactory("ref"), "other": ToyFactory("other", bug, id_offset)},
            "ref",
            seed=seed,
        )
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this folder's ``slow`` tests unless asked for (keeps the run near 2 minutes)."""
    if os.environ.get("PARITY_SLOW") or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: set PARITY_SLOW=1 or run with -m slow")
    for item in items:
        if "slow" in item.keywords and HERE in item.path.parents:
            item.add_marker(skip)
