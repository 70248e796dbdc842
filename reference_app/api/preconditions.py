"""Request headers whose syntax the contract states and the API enforces at the edge.

- ``If-Match``: an empty precondition is the client's mistake (400); anything else is
  evaluated by RFC 9110 (``*`` or a listed tag equal to the current one), and a value
  that matches nothing, stale or nonsensical, is 412. Why 400 only for the empty value:
  the contract says ``minLength: 1``, so that is the one value a schema-aware client can
  know is malformed.
- ``Idempotency-Key``: the IETF draft makes it a structured-field string, i.e. printable
  ASCII; leading and trailing spaces would not survive HTTP. The contract publishes
  :data:`IDEMPOTENCY_KEY_PATTERN` so schema-valid keys are exactly the accepted ones.
"""

from __future__ import annotations

import re

from reference_app.domain import errors

#: printable ASCII, no leading or trailing space (ECMA-262 and Python agree on it)
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"
_KEY_RE = re.compile(r"[!-~]([ -~]*[!-~])?")


def checked_if_match(value: str | None) -> str | None:
    """``value`` unchanged when absent or non-empty; a 400 problem when empty."""
    if value is None or value.strip(" \t"):
        return value
    raise errors.BadRequest("If-Match must not be empty: send the card's ETag, or *")


def checked_idempotency_key(value: str | None) -> str | None:
    """``value`` unchanged when absent or printable ASCII; the 400 problem otherwise
    (length is checked by the service layer, which owns the key's rules)."""
    if value is None or _KEY_RE.fullmatch(value):
        return value
    raise errors.InvalidIdempotencyKey("Idempotency-Key must be printable ASCII characters")
