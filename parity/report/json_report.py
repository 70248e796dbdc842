"""``parity.json``: the machine-readable report (versioned; the input of ``merge``)."""

from __future__ import annotations

import json
from pathlib import Path

from parity.report import capabilities
from parity.report.model import RunReport

FILENAME = "parity.json"


def write(report: RunReport, directory: Path) -> Path:
    path = directory / FILENAME
    data = {**report.to_dict(), "capabilities": capabilities.to_json(report)}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path
