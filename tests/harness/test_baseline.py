from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from parity.baseline import BaselineError, load_baseline

BASELINE = """
accepted:
  - id: sqlite-precision
    match: {scenario: ledger, backend: sqlite, path: "body.*created_at"}
    reason: sub-second timestamps
    expires: 2026-06-30
  - id: old-one
    match: {backend: "dynamodb@*", contains: "next_cursor"}
    reason: was fixed
    expires: 2025-01-01
"""


def test_known_expired_and_unmatched(tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(BASELINE)
    baseline = load_baseline(path)
    today = date(2026, 3, 1)
    known = baseline.judge("ledger", "sqlite", ["body.items[0].created_at"], "", today)
    assert known.known == "sqlite-precision"
    expired = baseline.judge("ledger", "dynamodb@moto", ["x"], "... next_cursor ...", today)
    assert expired.known is None and expired.expired == "old-one"
    other = baseline.judge("ledger", "sqlite", ["body.balance_cents"], "", today)
    assert other.known is None and other.expired is None
    after = baseline.judge("ledger", "sqlite", ["body.created_at"], "", date(2026, 7, 1))
    assert after.known is None and after.expired == "sqlite-precision"


def test_absent_file_is_empty_and_repo_baseline_loads(tmp_path: Path) -> None:
    assert load_baseline(tmp_path / "none.yaml").entries == []
    repo = Path(__file__).resolve().parents[2] / "fixtures" / "baseline.yaml"
    assert load_baseline(repo).entries == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accepted: [{id: a}]", "lacks reason, expires, match"),
        ("accepted: [{id: a, reason: r, expires: soon, match: {backend: x}}]", "YYYY-MM-DD"),
        ("accepted: [{id: a, reason: r, expires: 2026-01-01, match: {colour: x}}]", "match must"),
        ("accepted: {id: a}", "must be a list"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_malformed_baselines_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(text)
    with pytest.raises(BaselineError, match=message):
        load_baseline(path)
