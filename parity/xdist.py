"""``parity run -n N``: the run split into N shards under pytest-xdist, merged into one.

Each worker is one pytest item (:func:`test_parity_shard` in :mod:`parity.xdist_shard`)
that runs its part of the run (:meth:`Shard.worker <parity.run.shard.Shard.worker>` of
the machine's ``--shard``, the whole run without one) on its own engines, with
namespaces carrying the xdist worker id. Workers write partial ``parity.json`` files;
this process merges them (:func:`~parity.report.merge_reports`) and renders the one
report.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from parity.config import ParityConfig
from parity.report.merge import merge_reports
from parity.report.model import ReportError, RunReport
from parity.report.repro import call_line, enrich
from parity.report.writers import write_all
from parity.run.backends import InfraError
from parity.run.shard import Shard

WORKERS_DIR = ".workers"


def shard_spec(
    args: argparse.Namespace, config: ParityConfig, backends: list[str] | None, shard: Shard
) -> dict[str, Any]:
    return {
        "backends": backends,
        "suite": args.suite,
        "examples": args.examples or config.examples,
        "steps": args.steps,
        "shrink_examples": args.shrink_examples,
        "scenario_max_examples": args.scenario_max_examples,
        "seed": args.seed if args.seed is not None else random.randrange(2**31),
        "report_dir": str(args.report_dir or config.report_dir),
        "transport": args.transport,
        "regressions": not args.no_regressions,
        "shards": args.workers,
        "machine_shard": list(shard.machine),
        "run_id": uuid.uuid4().hex[:12],
        "config": str(args.config) if args.config else None,
        "scenarios": [n.strip() for n in args.scenarios.split(",")] if args.scenarios else None,
    }


def run_parallel(
    args: argparse.Namespace, config: ParityConfig, backends: list[str] | None, shard: Shard
) -> int:
    try:
        import xdist  # noqa: F401
    except ImportError as exc:
        raise InfraError("-n needs pytest-xdist (pip install pytest-xdist)") from exc
    spec = shard_spec(args, config, backends, shard)
    report_dir = Path(spec["report_dir"])
    workers = report_dir / WORKERS_DIR
    shutil.rmtree(workers, ignore_errors=True)
    workers.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        # by module name, not by file: a file path from site-packages is a different
        # module than the ``parity`` a checkout in the working directory puts first on
        # sys.path (tox in Parity's own repository: "import file mismatch", 0 workers)
        "--pyargs",
        "parity.xdist_shard",
        "-n",
        str(args.workers),
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "--no-header",
        "--parity-shard-spec",
        json.dumps(spec),
    ]
    part = f", shard {shard.label}" if shard.label else ""
    print(f"parity run: {args.workers} workers{part}, seed {spec['seed']}, run {spec['run_id']}")
    proc = subprocess.run(command, capture_output=True, text=True)
    errors = sorted(workers.glob("*.error"))
    if errors:
        raise InfraError(errors[0].read_text().strip())
    parts = sorted(workers.glob("shard-*.json"))
    if len(parts) != args.workers:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        raise InfraError(
            f"{len(parts)}/{args.workers} workers reported; pytest said: {' | '.join(tail)}"
        )
    try:
        merged = merge_reports([RunReport.load(p) for p in parts])
    except ReportError as exc:
        raise InfraError(str(exc)) from exc
    merged.run_id = spec["run_id"]
    merged.examples = spec["examples"]  # every worker was told the run's total
    merged.shard = shard.label  # the workers' parts make up this machine's shard
    written = write_all(merged, report_dir)
    reference = merged.reference
    for key, row in merged.cells.items():
        print(
            f"  {key}  "
            + "  ".join(
                f"{b}: {'reference' if b == reference and c['status'] == 'pass' else c['status']}"
                for b, c in row.items()
            )
        )
    for div in merged.failing_divergences():
        div = enrich(div)
        where = f"{', '.join(div['backends'])} at step {div['step']}"
        print(f"DIVERGENCE in {div['scenario']}: {where}")
        calls = div.get("calls") or []
        if calls:
            print(f"  calls ({len(calls)}):")
            for call in calls:
                print(f"    {call_line(call, reference)}")
        print(div["diff"])
        print(f"  replay: {div['replay']}")
    print(
        f"{merged.verdict()} (exit {merged.exit_code}); "
        f"reports: {', '.join(str(p) for p in written)}"
    )
    return merged.exit_code
