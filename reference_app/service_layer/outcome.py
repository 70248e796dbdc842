"""What a service operation answers: an HTTP-shaped result that can be stored verbatim.

Idempotency replays must return exactly what the first request returned, so the
service layer produces the representation (status, JSON body, headers) itself and the
idempotency record stores that same object in the same commit as the state change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False

    def body_text(self) -> str:
        return json.dumps(self.body, sort_keys=True, separators=(",", ":"))
