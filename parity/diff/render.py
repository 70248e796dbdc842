"""Human rendering of a divergence: the request, the differing paths, then both answers
side by side with the differing lines marked, as a developer reads a diff."""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any

from parity.diff.compare import Difference

WIDTH = 58


def _lines(doc: Any) -> list[str]:
    return json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False).splitlines()


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def render_side_by_side(
    request_line: str,
    reference: str,
    backend: str,
    expected: Any,
    actual: Any,
    differences: Sequence[Difference],
    width: int = WIDTH,
) -> str:
    """The text a developer sees for one backend's divergence at one step."""
    out = [f"{request_line}", f"  {len(differences)} difference(s) vs {reference}:"]
    for diff in differences:
        out.append(
            f"    {diff.path}: {reference}={_value(diff.expected)}  {backend}={_value(diff.actual)}"
        )
    left, right = _lines(expected), _lines(actual)
    out.append("")
    out.append(f"  {_clip(reference + ' (reference)', width):<{width}} | {backend}")
    out.append(f"  {'-' * width}-+-{'-' * width}")
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for line in left[i1:i2]:
                out.append(f"  {_clip(line, width):<{width}} | {_clip(line, width)}")
            continue
        lpart, rpart = left[i1:i2], right[j1:j2]
        for k in range(max(len(lpart), len(rpart))):
            lline = lpart[k] if k < len(lpart) else ""
            rline = rpart[k] if k < len(rpart) else ""
            out.append(f"! {_clip(lline, width):<{width}} | {_clip(rline, width)}")
    return "\n".join(out)
