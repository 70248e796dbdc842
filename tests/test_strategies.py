"""parity.strategies: edge data reaches the edges, stays in bounds, rejects bad bounds."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parity import strategies as ps

DRAWS = 400


def _sample(strategy: st.SearchStrategy, n: int = DRAWS) -> list:
    seen: list = []

    @settings(max_examples=n, database=None, derandomize=True)
    @given(strategy)
    def collect(value) -> None:
        seen.append(value)

    collect()
    return seen


def test_text_stays_in_bounds_and_reaches_store_edges() -> None:
    values = _sample(ps.text(max_size=20, forbid="\x00"))
    assert all(len(v) <= 20 and "\x00" not in v for v in values)
    reached = set(values)
    # the edges a collation or a normalising driver treats differently all appear
    for edge in ("", " ", "ß", "SS", "\u00e9", "e\u0301", "😀"):
        assert edge in reached, edge
    assert "é" * 20 in reached or "😀" * 20 in reached or "x" * 20 in reached


def test_text_respects_min_size_and_forbidden_characters() -> None:
    values = _sample(ps.text(min_size=2, max_size=5, forbid=" \t"))
    assert values
    assert all(2 <= len(v) <= 5 and " " not in v and "\t" not in v for v in values)


@pytest.mark.parametrize("bounds", [(-1, 3), (5, 2)])
def test_text_rejects_an_impossible_size(bounds: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="not a size range"):
        ps.text(min_size=bounds[0], max_size=bounds[1])


def test_case_variants_cover_case_and_normal_forms() -> None:
    values = set(_sample(ps.case_variants("Adé"), n=200))
    assert {"Adé", "adé", "ADÉ", unicodedata.normalize("NFD", "Adé")} <= values


def test_emails_have_case_variants_and_stay_within_the_limit() -> None:
    values = _sample(ps.emails(max_size=254))
    assert all("@" in v and len(v) <= 254 for v in values)
    lowered = {v.lower() for v in values}
    assert len(lowered) < len(set(values)), "some address should appear in two cases"
    assert any(len(v) == 254 for v in values)


def test_emails_need_a_domain() -> None:
    with pytest.raises(ValueError, match="at least one domain"):
        ps.emails(domains=())


def test_integers_reach_both_bounds_and_storage_limits() -> None:
    values = set(_sample(ps.integers(1, 2**40)))
    assert {1, 2**40, 2**31 - 1, 2**31, 2**32} <= values
    assert all(1 <= v <= 2**40 for v in values)
    with pytest.raises(ValueError, match="empty range"):
        ps.integers(3, 2)


def test_microseconds_reach_the_rounding_boundaries() -> None:
    values = set(_sample(ps.microseconds()))
    assert {0, 999_999, 500_000} <= values
    assert all(0 <= v <= 999_999 for v in values)


def test_seconds_land_on_either_side_of_a_mark() -> None:
    values = set(_sample(ps.seconds(max_seconds=100, around=[60])))
    tick = timedelta(microseconds=1)
    assert {
        timedelta(seconds=60) - tick,
        timedelta(seconds=60),
        timedelta(seconds=60) + tick,
    } <= values
    assert all(timedelta(0) <= v <= timedelta(seconds=100) for v in values)
    assert any(v.microseconds not in (0, 1, 999_999) for v in values)
    with pytest.raises(ValueError, match="not negative"):
        ps.seconds(max_seconds=-1)
