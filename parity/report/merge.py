"""Joining reports: the parts of a sharded run (``--shard K/N`` on N machines, or ``-n``
workers on one) or whole runs of several machines, into one :class:`RunReport`.

Joined, the parts of one sharded run read like the report one machine writes for the
same seed: a cell keeps the worse status and adds up the work, a divergence found twice
counts once, the configured examples per scenario count once per run, cells keep the
one-machine order. ``runs`` lists every input (seed, shard, machines, time).
"""

from __future__ import annotations

from typing import Any

from parity.config import ConfigError
from parity.lockstep.coverage import merge as merge_coverage
from parity.report.model import ReportError, RunReport, merge_cell
from parity.run.shard import Shard


def machine_split(report: RunReport) -> tuple[int, int]:
    """``(index, count)`` of the report's ``--shard``; ``(0, 1)`` for a whole run."""
    if not report.shard:
        return 0, 1
    try:
        return Shard.parse(report.shard).machine
    except ConfigError as exc:
        raise ReportError(f"report of run {report.run_id}: {exc}") from exc


def check_shards(reports: list[RunReport]) -> None:
    """Refuse (exit 2) a sharded run with a part missing, given twice, or run with other
    options: a CI matrix whose shard job died must not merge into a green report."""
    groups: dict[tuple[int | None, int], dict[int, RunReport]] = {}
    for report in reports:
        index, count = machine_split(report)
        if count == 1:
            continue
        group = groups.setdefault((report.seed, count), {})
        if index in group:
            raise ReportError(
                f"shard {report.shard} of the run with seed {report.seed} is given twice"
            )
        group[index] = report
    for (seed, count), group in groups.items():
        missing = [f"{i + 1}/{count}" for i in range(count) if i not in group]
        if missing:
            raise ReportError(
                f"the run with seed {seed} is missing shard(s) {', '.join(missing)} of "
                f"{count}: merge every part (a failed shard job has no report)"
            )
        first = group[0]
        for report in group.values():
            for what in ("suites", "backends", "examples"):
                if getattr(report, what) != getattr(first, what):
                    raise ReportError(
                        f"shards {first.shard} and {report.shard} of the run with seed {seed} "
                        f"ran different {what} ({getattr(first, what)} vs "
                        f"{getattr(report, what)}): every machine must run the same command "
                        "but for --shard"
                    )


def merge_reports(reports: list[RunReport]) -> RunReport:
    """Join ``reports`` (see the module doc); :func:`check_shards` first for a user's
    files, which this does not."""
    out = RunReport()
    counted: set[tuple[int | None, int]] = set()
    for rep in sorted(reports, key=lambda r: machine_split(r)[0]):
        out.runs += rep.runs or [rep.run_entry()]
        if rep.started_at and (not out.started_at or rep.started_at < out.started_at):
            out.started_at = rep.started_at
        out.run_id = out.run_id or rep.run_id
        out.reference = out.reference or rep.reference
        out.seed = rep.seed if out.seed is None else out.seed
        count = machine_split(rep)[1]
        if count == 1 or (rep.seed, count) not in counted:
            out.examples += rep.examples  # every part of a sharded run was told the total
            counted.add((rep.seed, count))
        out.backends += [b for b in rep.backends if b not in out.backends]
        out.suites += [s for s in rep.suites if s not in out.suites]
        out.machines += [m for m in rep.machines if m not in out.machines]
        out.engines.update(rep.engines)
        out.versions = out.versions or rep.versions
        for key, row in rep.cells.items():
            target = out.cells.setdefault(key, {})
            for backend, cell in row.items():
                target[backend] = merge_cell(target[backend], cell) if backend in target else cell
        for key, info in rep.scenarios.items():
            mine = out.scenarios.get(key)
            out.scenarios[key] = _merge_info(mine, info) if mine is not None else dict(info)
        seen = {d["id"] for d in out.divergences}
        out.divergences += [d for d in rep.divergences if d["id"] not in seen]
        out.contract_failures += rep.contract_failures
        out.seconds = max(out.seconds, rep.seconds)
    out.cells = in_suite_order(out.cells, out.suites)
    out.exit_code = max([r.exit_code for r in reports if r.exit_code == 2] or [0]) or (
        out.verdict_exit_code()
    )
    return out


def in_suite_order(
    cells: dict[str, dict[str, dict[str, Any]]], suites: list[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Cells grouped by suite in run order (regressions last), as one machine lists them;
    within a suite, the order they first appeared in (shards deal out contiguous blocks)."""

    def rank(key: str) -> int:
        suite = key.split("/", 1)[0]
        return suites.index(suite) if suite in suites else len(suites)

    return {key: cells[key] for key in sorted(cells, key=rank)}


def _merge_info(mine: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """One scenario's timings and coverage from two parts: numbers (and per-backend
    numbers) add up, coverage tallies add up, anything else is the later part's."""
    out = dict(mine)
    for k, v in info.items():
        if k == "coverage":
            out[k] = merge_coverage(mine.get(k), v)
        elif isinstance(v, int | float):
            out[k] = round(mine.get(k, 0) + v, 4)
        elif isinstance(v, dict) and all(isinstance(x, int | float) for x in v.values()):
            before = mine.get(k) or {}
            out[k] = {b: round(before.get(b, 0) + v.get(b, 0), 4) for b in {**before, **v}}
        else:
            out[k] = v
    return out
