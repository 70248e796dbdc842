"""Generated parameters that name objects which exist.

A contract namespace the binding seeded (:meth:`AppBinding.seed_contract`) holds cards,
requests, transactions…; a generated ``card_id`` of ``"0"`` meets none of them and the
operation answers 404 before it reaches the store. So each case's parameters that the
seeding has values for (path parameters above all; also query parameters and headers,
such as an ``If-Match`` version or a held ``Idempotency-Key``) are drawn, most of the
time, from those values — the strategy schemathesis built is composed with a draw from
them (the Hypothesis way: it shrinks towards the first value the binding listed), and
the generated value is kept for the rest, so "not found" stays exercised too.

Why not a schemathesis ``flatmap_path_parameters`` hook: hooks do not see which
component a negative case negated, and a negated parameter must stay negated or the
case stops being negative (its checks would then expect a rejection of a valid call).

The values are the reference backend's raw ones; every other backend gets its own
through the fan-out's normalisers (the seeding answers went through them), like any id
a case carries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.core.parameters import ParameterLocation

from parity.binding import BindingError
from parity.diff.normalize import Normalizer

#: drawn instead of a seeded value: keep the value schemathesis generated
KEEP = object()

SeededIds = Mapping[str, Sequence[str]]


def seeded_ids(returned: Any) -> dict[str, list[str]]:
    """What ``seed_contract`` returned, checked: parameter name -> ids (strings; an int
    id is written as the URL would carry it). A wrong shape is the binding's mistake."""
    if returned is None:
        return {}
    if not isinstance(returned, Mapping) or not all(
        isinstance(k, str) and isinstance(v, (list, tuple)) for k, v in returned.items()
    ):
        raise BindingError(
            "seed_contract must return {parameter name: [value, ...]}, "
            f"not {type(returned).__name__}"
        )
    return {k: [str(i) for i in v] for k, v in returned.items() if v}


#: where a seeded value may replace a generated one, and the case's container for it
CONTAINERS = {
    ParameterLocation.PATH: "path_parameters",
    ParameterLocation.QUERY: "query",
    ParameterLocation.HEADER: "headers",
}


def seeded_parameters(operation: Any, ids: SeededIds) -> list[tuple[ParameterLocation, str]]:
    """(location, name) of every parameter of ``operation`` the seeding has values for
    (header names case-insensitively, as HTTP reads them)."""
    lowered = {k.lower() for k in ids}
    return [
        (p.location, str(p.name))
        for p in operation.iter_parameters()
        if p.location in CONTAINERS
        and (
            p.name in ids or (p.location == ParameterLocation.HEADER and p.name.lower() in lowered)
        )
    ]


def _values(ids: SeededIds, name: str) -> list[str]:
    found = ids.get(name)
    if found is None:
        found = next((v for k, v in ids.items() if k.lower() == name.lower()), [])
    return list(found)


def with_seeded_ids(strategy: Any, operation: Any, ids: SeededIds) -> Any:
    """``strategy``'s cases with each parameter the seeding has values for replaced by
    one of them (or, with probability 1 / (values + 1), left as generated)."""
    params = seeded_parameters(operation, ids)
    if not params:
        return strategy
    picks = st.tuples(*(st.sampled_from([*_values(ids, name), KEEP]) for _, name in params))
    return st.tuples(strategy, picks).map(lambda pair: substitute(pair[0], params, pair[1]))


def substitute(
    case: Case, params: Sequence[tuple[ParameterLocation, str]], picks: Sequence[Any]
) -> Case:
    """``case`` with ``picks`` for ``params``. A location where the case is negative stays
    as generated (else it stops being negative), and so does a query parameter or header
    the case leaves out (its absence is a case of its own). Containers are assigned, not
    edited in place, so schemathesis revalidates the case's metadata."""
    chosen: dict[ParameterLocation, dict[str, Any]] = {}
    for (location, name), value in zip(params, picks, strict=True):
        if value is KEEP or (case.meta is not None and case.meta.is_negative_at(location)):
            continue
        chosen.setdefault(location, {})[name] = value
    for location, values in chosen.items():
        attribute = CONTAINERS[location]
        container = getattr(case, attribute)
        if location == ParameterLocation.PATH:
            setattr(case, attribute, {**(container or {}), **values})
            continue
        if not container:
            continue
        updated = container.copy()
        for name, value in values.items():
            if name in updated:
                updated[name] = value
        setattr(case, attribute, updated)
    return case


@contextlib.contextmanager
def moved(case: Case, old: Normalizer, new: Normalizer) -> Iterator[Case]:
    """``case`` with its path and query parameters written in another namespace's ids
    while the block runs (a shrunk case re-run in a fresh, identically seeded namespace):
    each raw id of ``old`` becomes its reference, then ``new``'s raw id for it."""
    kept = {name: getattr(case, name) for name in ("path_parameters", "query")}

    def move(value: Any) -> Any:
        return (
            new.denormalize_text(old.text(value), fallback=old) if isinstance(value, str) else value
        )

    for name, values in kept.items():
        if values:
            setattr(case, name, {k: move(v) for k, v in values.items()})
    try:
        yield case
    finally:
        for name, values in kept.items():
            if values:
                setattr(case, name, values)
