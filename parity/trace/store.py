"""Reading and writing trace files; failures go to ``<report-dir>/failures/``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from parity.jsonfile import read_json
from parity.trace.model import Trace, TraceError


def save_trace(trace: Trace, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(trace.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return path


def save_failure(trace: Trace, report_dir: Path, name: str | None = None) -> Path:
    """Save a divergence under ``failures/`` with a name saying what and where."""
    step = trace.divergent_step
    backends = "-".join(sorted(step.differences)) if step else "none"
    stem = name or f"{trace.scenario}--{backends}--step{step.index if step else 0}"
    stem = re.sub(r"[^A-Za-z0-9_.@-]+", "_", stem)
    directory = report_dir / "failures"
    path = directory / f"{stem}.json"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{stem}-{n}.json"
    return save_trace(trace, path)


def load_trace(path: Path) -> Trace:
    data = read_json(path, TraceError, "trace file")
    try:
        return Trace.from_dict(data)
    except TraceError as exc:
        raise TraceError(f"{path}: {exc}") from exc
