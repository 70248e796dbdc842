from __future__ import annotations

from parity.diff import Difference, compare, render_side_by_side


def test_compare_finds_changed_missing_and_extra_leaves() -> None:
    diffs = compare(
        {"status": 201, "body": {"a": 1, "items": [1, 2], "gone": True}},
        {"status": 200, "body": {"a": 1, "items": [1], "new": 0}},
    )
    assert [d.path for d in diffs] == ["status", "body.items[1]", "body.gone", "body.new"]
    assert diffs[0] == Difference("status", 201, 200)


def test_compare_distinguishes_types_and_honours_ignores() -> None:
    assert compare({"n": 1}, {"n": 1.0}) == [Difference("n", 1, 1.0)]
    assert (
        compare({"body": {"detail": "x"}}, {"body": {"detail": "y"}}, ignore=("body.detail",)) == []
    )


def test_side_by_side_rendering_marks_only_differing_lines() -> None:
    expected = {"status": 201, "body": {"balance": 100, "id": "<id:1>"}}
    actual = {"status": 201, "body": {"balance": 99, "id": "<id:1>"}}
    text = render_side_by_side(
        "step 3: POST /x", "memory", "sqlite", expected, actual, compare(expected, actual)
    )
    lines = text.splitlines()
    assert lines[0] == "step 3: POST /x"
    assert "body.balance: memory=100  sqlite=99" in text
    marked = [line for line in lines if line.startswith("!")]
    assert len(marked) == 1 and "100" in marked[0] and "99" in marked[0]
    assert "memory (reference)" in text and "| sqlite" in text
