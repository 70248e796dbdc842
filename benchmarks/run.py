"""Every ratio of issue 16 in one run, written as a table into benchmarks/README.md.

    python benchmarks/run.py [--quick] [--engines memory,sqlite,postgres@local]
        [--output benchmarks/README.md]

Why ratios only: the machine is shared, so absolute times are noise; a ratio of two runs
made one after the other on the same machine holds far better. Each row says its target
and whether this run met it. ``--quick`` (a few minutes) runs fewer examples and engines;
the default is the fuller run. The benchmarks themselves live in the ``bench_*`` modules
beside this file; this script only picks their sizes and writes the table.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import bench_contract
import bench_harness
import bench_isolation

from parity.config import load_config
from parity.contract.suite import stateful_scenarios
from parity.engines.base import EngineUnavailable
from parity.run.backends import InfraError, provision

HERE = Path(__file__).resolve().parent
START = "<!-- benchmarks/run.py: table start -->"
END = "<!-- benchmarks/run.py: table end -->"


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is; ``quick`` finishes in a few minutes."""

    engines: tuple[str, ...]
    contract_examples: int
    lockstep_examples: int
    lockstep_steps: int
    isolation_examples: int
    growth_steps_examples: int
    growth_examples_steps: int
    growth_examples: tuple[int, ...] = (50, 200, 1000)
    growth_steps: tuple[int, ...] = (15, 30, 60)


QUICK = Sizes(("memory", "sqlite", "postgres@local"), 10, 15, 15, 20, 8, 3)
FULL = Sizes(
    (
        "memory",
        "sqlite",
        "postgres@local",
        "mysql@local",
        "firestore@emulator",
        "dynamodb@moto-server",
    ),
    20,
    40,
    30,
    50,
    20,
    10,
)


@dataclass(frozen=True)
class Row:
    section: str
    what: str
    value: str
    target: str
    verdict: str


def verdict(value: float, limit: float, lower_is_better: bool = True) -> str:
    met = value <= limit if lower_is_better else value >= limit
    if met:
        return "met"
    gap = value / limit if lower_is_better else limit / value
    return f"missed ({gap:.2f}x the target)"


def unavailable(name: str, exc: Exception) -> Row:
    reason = str(exc).splitlines()[0]
    return Row("engines", name, "unavailable", "-", reason[:117] + "..." * (len(reason) > 117))


def contract_rows(sizes: Sizes, engines: list[str], log: Callable[[str], None]) -> list[Row]:
    rows: list[Row] = []
    names = [n for n in engines if n in ("memory", "sqlite", "postgres@local")]
    try:
        backends = provision(names, load_config(), 1)
    except InfraError as exc:  # e.g. no PostgreSQL here: the two in-process engines
        rows.append(unavailable(names[-1], exc))
        backends = provision(["memory", "sqlite"], load_config(), 1)
    names = list(backends.names)
    n_max = len(names)
    ex = sizes.contract_examples
    try:
        bench_contract.parity_seconds(backends, names, 2, 1)  # warm imports and caches
        alone: dict[str, bench_contract.Timing] = {}
        parity: dict[int, bench_contract.Timing] = {}
        for k, name in enumerate(names[:n_max], start=1):  # interleaved: load drifts
            alone[name] = bench_contract.alone_seconds(backends, name, ex, 1)
            parity[k] = bench_contract.parity_seconds(backends, names[:k], ex, 1)
        log(f"schemathesis alone: {alone}; parity on 1..N: {parity}")
    finally:
        backends.close()

    def ratio(
        what: str,
        top: list[bench_contract.Timing],
        bottom: list[bench_contract.Timing],
        limit: float,
        target: str,
    ) -> Row:
        wall = sum(t.wall for t in top) / sum(t.wall for t in bottom)
        cpu = sum(t.cpu for t in top) / sum(t.cpu for t in bottom)
        judged = f"{verdict(wall, limit)}; on CPU {verdict(cpu, limit)}"
        return Row("contract", what, f"{wall:.2f}x (CPU {cpu:.2f}x)", target, judged)

    rows.append(
        ratio(
            f"Parity on 1 backend ({names[0]}) / schemathesis alone on it",
            [parity[1]],
            [alone[names[0]]],
            1.2,
            "≤ 1.2x",
        )
    )
    for k in sorted(parity)[1:]:
        limit = 0.6 if k == 2 else (1 + 0.5 * (k - 1)) / k
        rows.append(
            ratio(
                f"Parity on {k} backends ({', '.join(names[:k])}) / {k} schemathesis runs",
                [parity[k]],
                [alone[n] for n in names[:k]],
                limit,
                f"≤ {limit:.2f}x",
            )
        )
        growth = 1 + 0.5 * (k - 1)
        rows.append(
            ratio(
                f"Parity on {k} backends / Parity on 1",
                [parity[k]],
                [parity[1]],
                growth,
                f"≤ {growth:.2f}x (1 + 0.5·(N-1))",
            )
        )
    rows.append(
        Row(
            "contract",
            "size",
            f"{ex} cases per operation; stateful: {stateful_scenarios(ex)} scenarios of 10 steps",
            "-",
            "-",
        )
    )
    return rows


def lockstep_rows(sizes: Sizes, engines: list[str], log: Callable[[str], None]) -> list[Row]:
    rows: list[Row] = []
    results: dict[str, bench_harness.HarnessResult] = {}
    for name in engines:
        try:
            setup_ms, _drop = bench_isolation.measure([name], sizes.isolation_examples)[name]
            pair = ["memory"] if name == "memory" else ["memory", name]
            results[name] = bench_harness.measure(
                pair, sizes.lockstep_examples, sizes.lockstep_steps
            )
        except (EngineUnavailable, InfraError) as exc:
            rows.append(unavailable(name, exc))
            continue
        log(f"lockstep {name}: isolation {setup_ms:.1f} ms, {results[name]}")
        rows.append(
            Row(
                "lockstep",
                f"per-example isolation on {name} (fresh namespace + app + 1 call)",
                f"{setup_ms:.1f} ms",
                "≤ 5 ms",
                verdict(setup_ms, 5.0),
            )
        )
    base_run = results.get("memory")
    base = base_run.steps_per_second if base_run else None
    for r in results.values():
        label = "+".join(r.backends)
        relative = (
            f" ({r.steps_per_second / base:.2f}x memory)" if base and r is not base_run else ""
        )
        rows += [
            Row(
                "lockstep",
                f"{label}: a step's cost / its backend calls",
                f"{r.step_vs_calls:.2f}x",
                "≤ 1.2x",
                verdict(r.step_vs_calls, 1.2),
            ),
            Row(
                "lockstep",
                f"{label}: harness time outside backend calls",
                f"{r.harness_share:.0%} of wall",
                "≤ 10 %",
                verdict(r.harness_share, 0.10),
            ),
            Row(
                "lockstep",
                f"{label}: steps/s ({r.examples} examples, {r.steps} steps)",
                f"{r.steps_per_second:.0f}{relative}",
                "-",
                "-",
            ),
        ]
    return rows


def growth_rows(sizes: Sizes, log: Callable[[str], None]) -> list[Row]:
    rows = []
    pair = ["memory", "sqlite"]
    by_steps = {
        s: bench_harness.measure(pair, sizes.growth_steps_examples, s) for s in sizes.growth_steps
    }
    base = by_steps[sizes.growth_steps[0]].steps_per_second
    for s, r in by_steps.items():
        rel = r.steps_per_second / base
        rows.append(
            Row(
                "growth",
                f"steps/s at ≤{s} steps per example (memory+sqlite) / at ≤{sizes.growth_steps[0]}",
                f"{rel:.2f}x ({r.steps / r.examples:.1f} steps per example)",
                "≥ 0.8x (flat: nothing grows with the example's length)",
                verdict(rel, 0.8, lower_is_better=False),
            )
        )
    by_examples = {
        n: bench_harness.measure(pair, n, sizes.growth_examples_steps)
        for n in sizes.growth_examples
    }
    log(f"growth: {by_steps} {by_examples}")
    base = by_examples[sizes.growth_examples[0]].examples_per_second
    for n, r in by_examples.items():
        rel = r.examples_per_second / base
        rows.append(
            Row(
                "growth",
                f"examples/s at {n} examples (≤{sizes.growth_examples_steps} steps) "
                f"/ at {sizes.growth_examples[0]}",
                f"{rel:.2f}x ({r.examples} examples run)",
                "≥ 0.8x (flat: nothing grows with the run's length)",
                verdict(rel, 0.8, lower_is_better=False),
            )
        )
    return rows


def _load() -> str:
    out = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    return out.strip().split("load average:")[-1].strip()


def table(rows: list[Row], command: str, load_before: str, load_after: str) -> str:
    lines = [
        START,
        f"Command: `{command}`  ",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} CPUs, Python {platform.python_version()})  ",
        f"Machine load (1/5/15-min load average): {load_before} before, {load_after} after",
        "",
        "| section | measurement | this run | target | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {r.section} | {r.what} | {r.value} | {r.target} | {r.verdict} |" for r in rows]
    lines.append(END)
    return "\n".join(lines) + "\n"


def write(output: Path, block: str) -> None:
    """Replace the table between the markers, keeping the prose around it."""
    text = output.read_text() if output.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block
    output.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes, fewer engines")
    parser.add_argument("--engines", help="comma-separated; default: per mode")
    parser.add_argument("--output", type=Path, default=HERE / "README.md")
    parser.add_argument(
        "--only", help="comma-separated sections: contract,lockstep,growth (default: all)"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    wanted = set((args.only or "contract,lockstep,growth").split(","))
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    load_before = _load()
    engines = args.engines.split(",") if args.engines else list(sizes.engines)
    rows: list[Row] = []
    if "contract" in wanted:
        rows += contract_rows(sizes, engines, log)
    if "lockstep" in wanted:
        rows += lockstep_rows(sizes, engines, log)
    if "growth" in wanted:
        rows += growth_rows(sizes, log)
    block = table(rows, command.strip(), load_before, _load())
    write(args.output, block)
    print(block)


if __name__ == "__main__":
    main()
