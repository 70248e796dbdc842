"""Running schemathesis's checks on one backend's answer, and Parity's extra check.

Why through ``case.validate_response``: it applies the same per-operation check config
(``schemathesis.toml``) the standalone CLI applies, so the harness and the CLI can never
disagree about what passes. Checks that send requests of their own (``ignored_auth``,
``use_after_free`` …) get the backend's own session, so they probe that backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
import schemathesis
from schemathesis import Case
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import ignored_auth

from parity.contract.transport import BASE_URL

VALIDATION_PROBLEM = "urn:parity:problem:validation-error"


@dataclass(frozen=True)
class CheckFailure:
    """One failed check on one backend: what a report row shows."""

    check: str
    title: str
    message: str


def _check_name(failure: Failure) -> str:
    """The check that raised ``failure``. A failure kind shared by several checks (a
    JSON Schema violation: body or header) is told apart by its title."""
    names = tuple(getattr(failure, "checks", ()) or ())
    if len(names) > 1:
        title = f"{failure.title} {failure.message[:200]}".lower()
        names = (
            tuple(n for n in names if "header" in n)
            if "header" in title
            else tuple(n for n in names if "header" not in n) or names
        )
    return names[0] if names else failure.code


@schemathesis.check
def parity_validation_refusal(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    """A schema-valid request must never be refused as *invalid*.

    The config lets some operations answer 400/412/422 to valid data when server state
    says no (a stale ETag, a business rule). This check keeps that allowance honest: a
    positive case answered with the ``validation-error`` problem means the app's
    validation is stricter than the contract, whatever the status.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code >= 500 or response.status_code < 400:
        return None
    try:
        body = response.json()
    except Exception:
        return None
    if isinstance(body, dict) and body.get("type") == VALIDATION_PROBLEM:
        raise AssertionError(
            f"schema-valid request refused as invalid ({response.status_code}): "
            f"{body.get('errors')}"
        )
    return None


def run_checks(
    case: Case,
    response: schemathesis.Response,
    session: requests.Session,
    headers: dict[str, str],
    recorder: Any = None,
) -> list[CheckFailure]:
    """Every enabled check on ``response``; the failures (empty when all pass)."""
    try:
        case.validate_response(
            response,
            headers=headers,
            transport_kwargs={"session": session, "base_url": BASE_URL, "headers": headers},
            recorder=recorder,
            excluded_checks=[ignored_auth],
        )
    except BaseExceptionGroup as group:
        return [_to_failure(exc) for exc in group.exceptions]
    except AssertionError as exc:
        return [_to_failure(exc)]
    failure = auth_enforced(case, response, session)
    return [failure] if failure else []


def auth_enforced(
    case: Case, response: schemathesis.Response, session: requests.Session
) -> CheckFailure | None:
    """schemathesis's ``ignored_auth``, sent through the backend's own session.

    Why a port: ``ignored_auth`` re-sends its probe on a *fresh* session (so no
    credential can leak into it), which cannot reach an in-process backend. This does
    what it does: a 2xx answer to an operation that requires auth must become a 401
    when the request is re-sent with no credentials and with a wrong token.
    """
    if not 200 <= response.status_code < 300 or not _requires_auth(case):
        return None
    prepared = response.request.copy()
    for label, value in (("no credentials", None), ("an invalid token", "Bearer parity-wrong")):
        prepared.headers.pop("Authorization", None)
        if value is not None:
            prepared.headers["Authorization"] = value
        probe = session.send(prepared)
        if probe.status_code != 401:
            return CheckFailure(
                "ignored_auth",
                "API accepts requests without authentication",
                f"re-sent with {label}: expected 401, got {probe.status_code}",
            )
    return None


def _requires_auth(case: Case) -> bool:
    raw = case.operation.definition.raw
    security = raw.get("security", case.operation.schema.raw_schema.get("security", []))
    return bool(security) and all(bool(req) for req in security)


def _to_failure(exc: BaseException) -> CheckFailure:
    if isinstance(exc, Failure):
        return CheckFailure(_check_name(exc), exc.title, exc.message)
    return CheckFailure("parity_validation_refusal", type(exc).__name__, str(exc))
