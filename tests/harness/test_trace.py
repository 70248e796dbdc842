from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from parity.lockstep import Divergence
from parity.lockstep.session import LockstepSession
from parity.trace import SCHEMA_VERSION, Trace, TraceError, load_trace, save_failure
from parity.trace.replay import replay


def _diverging_trace(session: LockstepSession) -> Trace:
    driver = session.new_driver()
    driver.call("POST", "/items", json={"value": 1})
    with pytest.raises(Divergence):
        driver.call("POST", "/items", json={"value": 8})
    return session.trace_of(driver, "toy")


def test_trace_round_trips_through_json(
    tmp_path: Path, toy_session: Callable[..., LockstepSession]
) -> None:
    trace = _diverging_trace(toy_session(bug=True))
    path = save_failure(trace, tmp_path)
    assert path.parent == tmp_path / "failures"
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["divergence"] == {
        "step": 1,
        "backends": ["other"],
        "paths": {"other": ["body.value"]},
    }
    assert set(data["versions"]) >= {"python", "hypothesis", "schemathesis", "parity"}
    assert data["steps"][1]["responses"]["other"]["raw"]["body"]["value"] == 9
    loaded = load_trace(path)
    assert loaded.to_dict() == trace.to_dict()
    assert loaded.divergence_signature() == (1, {"other": ["body.value"]})


def test_saving_twice_never_overwrites(
    tmp_path: Path, toy_session: Callable[..., LockstepSession]
) -> None:
    trace = _diverging_trace(toy_session(bug=True))
    assert save_failure(trace, tmp_path) != save_failure(trace, tmp_path)


def test_replay_reproduces_the_same_divergence(toy_session: Callable[..., LockstepSession]) -> None:
    trace = _diverging_trace(toy_session(bug=True))
    result = replay(trace, toy_session(bug=True, id_offset=50))
    assert result.diverged and result.same_divergence_as(trace)
    fixed = replay(trace, toy_session(bug=False))
    assert not fixed.diverged and len(fixed.trace.steps) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not readable JSON"),
        ('{"kind": "something-else"}', "not a parity trace"),
        ('{"kind": "parity-trace", "schema_version": 99}', "schema_version 99"),
        ('{"kind": "parity-trace", "schema_version": 1}', "malformed trace"),
    ],
)
def test_bad_trace_files_are_clear_user_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(TraceError, match=message):
        load_trace(path)
    with pytest.raises(TraceError, match="no such trace"):
        load_trace(tmp_path / "absent.json")
