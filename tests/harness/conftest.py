from __future__ import annotations

from collections.abc import Callable, Iterator

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
