"""The report model: what ``parity.json`` holds, built from the event stream.

Every format (JSON, JUnit, HTML, Markdown) renders a :class:`RunReport`, and ``parity
report merge`` loads several and joins them (:mod:`parity.report.merge`), so there is
one source of truth per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.jsonfile import read_json
from parity.report.events import (
    CellResult,
    ContractFailure,
    DivergenceFound,
    EnginesStarted,
    Event,
    RunFinished,
    RunStarted,
    ScenarioFinished,
)
from parity.report.repro import enrich

#: 2: ``started_at``, ``runs`` (every merged input's seed, machines and time), and
#: divergences carry ``calls`` and ``differences``; the reference's passing cells are not
#: counted in ``summary``; ``shard`` (``K/N``, empty for a whole run) was added without a
#: new version (older readers ignore it). Version 1 reports still load (and merge).
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
KIND = "parity-report"
#: worst first: merging two results for one cell keeps the worse one
SEVERITY = ["error", "fail", "known", "unsupported", "skipped", "pass"]


class ReportError(ValueError):
    """A file is not a parity report (user error: exit 2)."""


def worse(a: str, b: str) -> str:
    return a if SEVERITY.index(a) <= SEVERITY.index(b) else b


@dataclass
class RunReport:
    run_id: str = ""
    reference: str = ""
    backends: list[str] = field(default_factory=list)
    suites: list[str] = field(default_factory=list)
    seed: int | None = None
    examples: int = 0
    engines: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    machines: list[str] = field(default_factory=list)
    #: "suite/scenario" -> backend -> cell
    cells: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)  # timings per scenario
    divergences: list[dict[str, Any]] = field(default_factory=list)
    contract_failures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    exit_code: int = 0
    #: when the run started (ISO 8601 UTC); a merged report: the earliest input's
    started_at: str = ""
    #: one entry per run this report is made of: run_id, seed, machines, started_at,
    #: seconds, exit_code (a merged report lists every input)
    runs: list[dict[str, Any]] = field(default_factory=list)
    #: ``K/N`` when this report is one machine's part of a sharded run (``--shard``)
    shard: str = ""

    # derived ----------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Cells per status. The reference's passing cells are not counted: the
        reference is what the others are compared with, it cannot "pass" a comparison."""
        out = dict.fromkeys(SEVERITY, 0)
        for row in self.cells.values():
            for backend, cell in row.items():
                if backend == self.reference and cell["status"] == "pass":
                    continue
                out[cell["status"]] += 1
        return out

    def failing_divergences(self) -> list[dict[str, Any]]:
        return [d for d in self.divergences if not d.get("known")]

    def verdict(self) -> str:
        """``no divergence``, ``2 divergences``, ``1 divergence, 3 contract failures``,
        or ``infrastructure error``."""
        if self.exit_code == 2:
            return "infrastructure error"
        return verdict_text(
            len(self.failing_divergences()),
            len(self.contract_failures),
            self.counts()["error"],
            self.counts()["fail"],
        )

    def verdict_exit_code(self) -> int:
        counts = self.counts()
        failed = counts["fail"] + counts["error"] + len(self.contract_failures)
        return 1 if failed else 0

    # serialisation ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "reference": self.reference,
            "backends": self.backends,
            "suites": self.suites,
            "seed": self.seed,
            "examples": self.examples,
            "engines": self.engines,
            "versions": self.versions,
            "machines": self.machines,
            "summary": self.counts(),
            "cells": self.cells,
            "scenarios": self.scenarios,
            "divergences": self.divergences,
            "contract_failures": self.contract_failures,
            "seconds": round(self.seconds, 3),
            "exit_code": self.exit_code,
            "verdict": self.verdict(),
            "started_at": self.started_at,
            "runs": self.all_runs(),
            "shard": self.shard,
        }

    def all_runs(self) -> list[dict[str, Any]]:
        return self.runs or [self.run_entry()]

    def run_entry(self) -> dict[str, Any]:
        """This report as one entry of ``runs``."""
        return {
            "run_id": self.run_id,
            "seed": self.seed,
            "machines": list(self.machines),
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "exit_code": self.exit_code,
            "shard": self.shard,
        }

    @classmethod
    def from_dict(cls, data: Any) -> RunReport:
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise ReportError("not a parity report (missing kind: parity-report)")
        version = data.get("schema_version")
        if version not in READABLE_VERSIONS:
            raise ReportError(
                f"report schema_version {version!r} is not supported (this Parity reads "
                f"{', '.join(map(str, READABLE_VERSIONS))})"
            )
        fields = set(cls.__dataclass_fields__)
        report = cls(**{k: v for k, v in data.items() if k in fields})
        if not report.runs:  # version 1: the report was one run
            report.runs = [report.run_entry()]
        return report

    @classmethod
    def load(cls, path: Path) -> RunReport:
        data = read_json(path, ReportError, "report")
        try:
            return cls.from_dict(data)
        except ReportError as exc:
            raise ReportError(f"{path}: {exc}") from exc


def merge_cell(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Join two results for one cell (xdist shards, or two machines): the worse status
    wins; work done adds up."""
    status = worse(a["status"], b["status"])
    keep = a if a["status"] == status else b
    return {
        **keep,
        "status": status,
        "examples": a.get("examples", 0) + b.get("examples", 0),
        "steps": a.get("steps", 0) + b.get("steps", 0),
        "seconds": round(a.get("seconds", 0.0) + b.get("seconds", 0.0), 4),
    }


def verdict_text(divergences: int, contract: int = 0, errors: int = 0, fails: int = 0) -> str:
    """The one-line verdict: ``no divergence`` or what went wrong, counted."""

    def n(count: int, what: str) -> str:
        return f"{count} {what}{'' if count == 1 else 's'}"

    parts = []
    if divergences or (fails and not contract):
        parts.append(n(divergences or fails, "divergence"))
    if contract:
        parts.append(n(contract, "contract failure"))
    if errors:
        parts.append(n(errors, "error"))
    return ", ".join(parts) or "no divergence"


class ReportBuilder:
    """The handler that turns events into a :class:`RunReport`."""

    def __init__(self) -> None:
        self.report = RunReport()

    def handle(self, event: Event) -> None:
        rep = self.report
        if isinstance(event, RunStarted):
            rep.run_id, rep.reference = event.run_id, event.reference
            rep.backends, rep.suites = list(event.backends), list(event.suites)
            rep.seed, rep.examples = event.seed, event.examples
            rep.engines, rep.versions = dict(event.engines), dict(event.versions)
            rep.machines = [event.machine]
            rep.started_at = event.started_at
            rep.shard = event.shard
        elif isinstance(event, EnginesStarted):
            rep.engines.update(event.engines)
        elif isinstance(event, ScenarioFinished):
            key = f"{event.suite}/{event.scenario}"
            row = rep.cells.setdefault(key, {})
            for backend, cell in event.cells.items():
                row[backend] = (
                    merge_cell(row[backend], _cell(cell)) if backend in row else _cell(cell)
                )
            rep.scenarios[key] = {
                "seconds": round(event.seconds, 4),
                "examples": event.examples,
                "steps": event.steps,
                **event.stats,
            }
        elif isinstance(event, DivergenceFound):
            rep.divergences.append(
                {
                    "id": event.id,
                    "suite": event.suite,
                    "scenario": event.scenario,
                    "backends": event.backends,
                    "step": event.step,
                    "steps": event.steps,
                    "request": event.request,
                    "diff": event.diff,
                    "trace": event.trace_path,
                    "replay": event.replay,
                    "known": event.known,
                    "expired": event.expired,
                    "paths": event.paths,
                    "calls": event.calls,
                    "differences": event.differences,
                }
            )
            rep.divergences[-1] = enrich(rep.divergences[-1])
        elif isinstance(event, ContractFailure):
            rep.contract_failures.append(dict(event.__dict__))
        elif isinstance(event, RunFinished):
            rep.seconds = event.seconds
            rep.exit_code = event.exit_code


def _cell(cell: CellResult) -> dict[str, Any]:
    return cell.to_dict()
