"""Reading the harness's own JSON documents (reports, traces) with one clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: Path, error: type[Exception], what: str) -> Any:
    """``path`` parsed, or ``error`` naming the file: missing, unreadable or not JSON."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise error(f"{path}: no such {what}") from exc
    except (OSError, ValueError) as exc:
        raise error(f"{path}: not readable JSON ({exc})") from exc
