"""Data that stores disagree about: Hypothesis strategies for scenarios.

Scenario authors reach for ``st.text()`` or a short ``sampled_from`` list and get data no
store ever chokes on. Stores differ at the edges: an empty string (Oracle and DynamoDB
keys refuse it), whitespace that a PAD SPACE collation ignores, letters a
case-insensitive collation folds (``ß``/``SS``, ``İ``), the two Unicode normalisation
forms of one visible text (``é`` vs ``e`` + combining accent), characters outside the
Basic Multilingual Plane (MySQL's 3-byte ``utf8``), a value at the column's length limit
in characters but not in bytes, integers at 32-bit, 53-bit (a JSON double) and 64-bit
limits, and sub-second times at ``.000000`` and ``.999999`` (a millisecond column rounds
one of them into the next second).

Each strategy here mixes those edge values with ordinary random data, weighted towards
the edges, so a scenario that uses them reaches the edge cases at a CI example budget
and Hypothesis shrinks towards the simplest edge that still fails. Nothing here knows
an app: bounds come from the caller, which knows its API's limits.

    from parity import strategies as ps

    @rule(name=ps.text(max_size=100), email=ps.emails())
    def sign_up(self, name, email): ...
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import timedelta

from hypothesis import strategies as st

__all__ = [
    "EDGE_TEXTS",
    "case_variants",
    "emails",
    "integers",
    "microseconds",
    "seconds",
    "text",
]

#: Texts on which stores, collations and drivers are known to disagree.
EDGE_TEXTS: tuple[str, ...] = (
    "",
    " ",
    "\t",
    "a",
    "A",
    " a",
    "a ",
    "a  b",
    "ß",
    "SS",
    "ss",
    "ẞ",
    "İ",
    "i̇",
    "\u0131",  # dotless i: lower-cases differently under a Turkish collation
    "\u00e9",  # é, composed (NFC)
    "e\u0301",  # é, decomposed (NFD)
    "\u2126",  # OHM SIGN, NFC-normalises to Ω
    "\u03a9",  # GREEK CAPITAL LETTER OMEGA
    "ﬁ",
    "😀",
    "👩\u200d💻",
    "a\u200bb",  # a zero-width space inside
    "0",
    "00",
    "1e3",
    "null",
    "%",
    "_",
    "\\",
    "'",
    '"',
    "a/b",
)

_INTEGER_LIMITS = (
    0,
    1,
    -1,
    2**7 - 1,
    2**15 - 1,
    2**31 - 1,
    2**31,
    -(2**31),
    2**32,
    2**53 - 1,
    2**53,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    10**9,
    10**12,
)

_MICROSECONDS = (0, 1, 499_999, 500_000, 500_001, 999_000, 999_499, 999_500, 999_999)


def _fits(value: str, min_size: int, max_size: int, forbid: str) -> bool:
    return min_size <= len(value) <= max_size and not any(char in forbid for char in value)


def text(
    *,
    min_size: int = 0,
    max_size: int = 100,
    forbid: str = "\x00",
    alphabet: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[str]:
    """Text of ``min_size``..``max_size`` characters, often one a store treats differently.

    Draws one of: an edge text (:data:`EDGE_TEXTS`), an edge text padded to exactly
    ``max_size`` characters with a multi-byte letter (a limit counted in characters by the
    API but in bytes by a column), an ASCII text exactly ``max_size`` long, or any text of
    ``alphabet`` (default: every Unicode character except surrogates and ``forbid``).
    """
    if min_size < 0 or max_size < min_size:
        raise ValueError(f"text(min_size={min_size}, max_size={max_size}): not a size range")
    edges = [value for value in EDGE_TEXTS if _fits(value, min_size, max_size, forbid)]
    long_values = [
        value
        for value in ("x" * max_size, "é" * max_size, "😀" * max_size, "a" * (max_size - 1) + " ")
        if max_size <= 10_000 and _fits(value, min_size, max_size, forbid)
    ]
    characters = alphabet or st.characters(codec="utf-8", exclude_characters=set(forbid))
    anything = st.text(characters, min_size=min_size, max_size=max_size)
    parts: list[st.SearchStrategy[str]] = []
    if edges:
        parts.append(st.sampled_from(edges))
    if long_values:
        parts.append(st.sampled_from(long_values))
    parts.append(anything)
    return st.one_of(*parts)


def case_variants(value: str) -> st.SearchStrategy[str]:
    """``value`` with the case of some letters flipped, or normalised to NFC/NFD.

    Shrinks to ``value`` itself. Use it to sign up ``Ann@Example.com`` after
    ``ann@example.com``: is that one account or two, on every backend?
    """
    forms = sorted(
        {
            value,
            value.lower(),
            value.upper(),
            value.swapcase(),
            value.capitalize(),
            unicodedata.normalize("NFC", value),
            unicodedata.normalize("NFD", value),
        }
        - {value}
    )
    return st.sampled_from([value, *forms])


def emails(
    *,
    domains: Iterable[str] = ("example.com", "Example.COM", "exämple.com"),
    max_size: int = 254,
) -> st.SearchStrategy[str]:
    """E-mail addresses whose local parts and domains differ by case, accents and length.

    Includes a local part at 64 characters (the RFC 5321 limit) and an address of exactly
    ``max_size`` characters, so a column sized for "most addresses" is found out.
    """
    domain_list = list(domains)
    if not domain_list:
        raise ValueError("emails(domains=...): give at least one domain")
    locals_ = st.one_of(
        st.sampled_from(
            ["ada", "Ada", "ADA", "adá", "straße", "STRASSE", "a.b", "a+tag", "x" * 64]
        ),
        st.from_regex(r"[a-zA-Z0-9._%+-]{1,20}", fullmatch=True),
    )
    address = st.builds(
        lambda local, domain: f"{local}@{domain}", locals_, st.sampled_from(domain_list)
    ).flatmap(case_variants)
    longest = f"{'a' * 64}@{'b' * max(1, max_size - 69)}.com"
    at_limit = [longest] if len(longest) == max_size else []
    return st.one_of(address, st.sampled_from(at_limit)) if at_limit else address


def integers(min_value: int, max_value: int) -> st.SearchStrategy[int]:
    """Integers in ``[min_value, max_value]``, often at a bound or a storage type's limit."""
    if max_value < min_value:
        raise ValueError(f"integers({min_value}, {max_value}): empty range")
    edges = sorted(
        {
            value
            for value in (
                min_value,
                min_value + 1,
                max_value - 1,
                max_value,
                *_INTEGER_LIMITS,
            )
            if min_value <= value <= max_value
        }
    )
    return st.one_of(st.sampled_from(edges), st.integers(min_value, max_value))


def microseconds() -> st.SearchStrategy[int]:
    """A sub-second part in microseconds, often at a rounding boundary.

    ``0`` and ``999_999`` separate a store that truncates to milliseconds or seconds from
    one that rounds; ``500_000`` separates rounding half-up from half-even.
    """
    return st.one_of(st.sampled_from(_MICROSECONDS), st.integers(0, 999_999))


def seconds(*, max_seconds: int, around: Iterable[int] = ()) -> st.SearchStrategy[timedelta]:
    """A duration up to ``max_seconds`` at microsecond resolution.

    ``around`` names instants that matter to the app (a TTL, a lease): the duration lands
    just before, exactly on, or just after each of them, to the microsecond.
    """
    if max_seconds < 0:
        raise ValueError(f"seconds(max_seconds={max_seconds}): a duration is not negative")
    marks = sorted({mark for mark in around if 0 <= mark <= max_seconds})
    exact = [
        timedelta(seconds=mark) + delta
        for mark in marks
        for delta in (timedelta(microseconds=-1), timedelta(0), timedelta(microseconds=1))
        if timedelta(0) <= timedelta(seconds=mark) + delta <= timedelta(seconds=max_seconds)
    ]
    whole = st.integers(0, max_seconds)
    anywhere = st.builds(
        lambda secs, micros: min(
            timedelta(seconds=secs, microseconds=micros), timedelta(seconds=max_seconds)
        ),
        whole,
        microseconds(),
    )
    return st.one_of(st.sampled_from(exact), anywhere) if exact else anywhere
