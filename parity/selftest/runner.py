"""Run the suites against memory (reference) vs each planted fault and print a table:
fault, the engine it is planted on, caught?, shrunk steps, and whether the saved trace
replays to the same divergence. Exit 0 only if every fault is caught, shrunk to at most
``max_calls`` calls (``MAX_STEPS`` by default) and replays.

The depth is the command line's, or a profile's (``--profile ci``: "would the CI job
catch this?"), and the faults are the ``[tool.parity] selftest`` module's, or another
registry's (``--registry``): a project can keep a sign-off set of migration bugs apart
from the faults it proves its harness with on every change."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from parity.config import ParityConfig
from parity.lockstep.session import LockstepSession
from parity.run.backends import InfraError, load_faults, provision
from parity.run.orchestrator import RunOptions, execute
from parity.selftest.registry import FAULTS
from parity.trace.replay import replay
from parity.trace.store import load_trace

MAX_STEPS = 8


@dataclass(frozen=True)
class Depth:
    """How hard each fault's run looks: the ``parity run`` options that set its depth."""

    examples: int = 200
    steps: int = 15
    #: examples Hypothesis may spend shrinking (None: until it is done)
    shrink_examples: int | None = None
    #: scenario name -> at most this many examples (a profile's cap)
    scenario_max_examples: dict[str, int] | None = None


@dataclass
class FaultResult:
    fault: str
    description: str
    base: str
    caught: bool
    steps: int | None
    replays: bool
    trace: str | None
    seconds: float = 0.0
    #: where it was caught: ``scenarios <name>`` or ``contract <operation>``
    where: str = ""
    max_calls: int = MAX_STEPS

    @property
    def ok(self) -> bool:
        return (
            self.caught and self.steps is not None and self.steps <= self.max_calls and self.replays
        )


def replays_to_same(trace_path: Path, config: ParityConfig) -> bool:
    """Replay a saved trace on its own backends: does it diverge the same way?"""
    trace = load_trace(trace_path)
    from parity.ports.replay import is_port_trace, replay_port

    if is_port_trace(trace):
        return replay_port(trace, config).same_divergence_as(trace)
    backends = provision(
        trace.backends, config.with_overrides(reference=trace.reference), trace.replay_seed
    )
    try:
        session = LockstepSession(
            backends.factories,
            backends.reference,
            namespace_prefix="selftest_replay",
            options=trace.diff_options() or backends.diff,
        )
        try:
            result = replay(trace, session)
        finally:
            session.close()
    finally:
        backends.close()
    if result.divergence is None and trace.contract:
        # a contract check every backend fails alike: the same failing answer again
        from parity.contract.traces import same_failure

        return same_failure(trace, result.trace)
    return result.same_divergence_as(trace)


def check_fault(
    fault: str,
    config: ParityConfig,
    depth: Depth,
    seed: int,
    report_dir: Path,
    max_calls: int = MAX_STEPS,
) -> FaultResult:
    load_faults(config)
    engine = FAULTS[fault]
    suite = "ports" if engine.implementation is not None else engine.suite
    started = time.monotonic()
    outcome = execute(
        RunOptions(
            backends=[config.reference, engine.engine_name],
            suite=suite,
            examples=depth.examples,
            steps=depth.steps,
            shrink_examples=depth.shrink_examples,
            scenario_max_examples=depth.scenario_max_examples,
            seed=seed,
            report_dir=report_dir / fault,
            regressions=False,
            terminal=False,
            scenarios=(list(engine.scenarios) or None) if suite != "contract" else None,
            fail_fast=True,  # one catch is the verdict: the contract suite's other
            # operations (minutes at a profile's depth) would only repeat it
        ),
        config,
    )
    seconds = time.monotonic() - started
    result = FaultResult(
        fault, engine.description, engine.base, False, None, False, None, seconds, "", max_calls
    )
    divergences = [d for d in outcome.report.divergences if engine.engine_name in d["backends"]]
    if divergences:
        div = divergences[0]
        result.where = f"{div.get('suite', 'scenarios')} {div['scenario']}"
        result.steps, result.trace = int(div["steps"]), div["trace"]
    else:
        failures = [
            f for f in outcome.report.contract_failures if f["backend"] == engine.engine_name
        ]
        if not failures:
            return result
        failure = failures[0]
        result.where = f"contract {failure['operation']} ({failure['check']})"
        result.trace = failure.get("trace")
        result.steps = len(load_trace(Path(result.trace)).steps) if result.trace else None
    result.caught = True
    result.replays = replays_to_same(Path(result.trace), config) if result.trace else False
    return result


def _verdict(result: FaultResult) -> str:
    if not result.caught:
        return "NOT caught"
    replays = "replays" if result.replays else "does NOT replay"
    return f"caught, shrunk to {result.steps} calls, {replays}"


def run_selftest(
    config: ParityConfig,
    depth: Depth | None = None,
    seed: int = 0,
    report_dir: Path | None = None,
    faults: list[str] | None = None,
    console: Console | None = None,
    max_calls: int = MAX_STEPS,
) -> int:
    depth = depth or Depth()
    load_faults(config)
    if not FAULTS:
        raise InfraError(
            "no planted faults: set [tool.parity] selftest = 'package.module' (or pass "
            "--registry) to a module that registers them with parity.register_fault"
        )
    names = faults or sorted(FAULTS, key=lambda f: not FAULTS[f].core)
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise InfraError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    report_dir = report_dir or config.report_dir / "selftest"
    config = config.with_overrides(reference="memory", regressions=Path("/nonexistent"))
    console = console or Console(highlight=False, width=160)
    results = []
    for n, name in enumerate(names, start=1):
        # one plain line per fault as it ends: a piped or CI run is never silent for the
        # minutes a fault's examples and shrinking take
        started = time.monotonic()
        result = check_fault(name, config, depth, seed, report_dir, max_calls)
        results.append(result)
        console.print(
            f"[{n}/{len(names)}] {name}: {_verdict(result)} ({time.monotonic() - started:.0f} s)",
            markup=False,
            soft_wrap=True,
        )
    write_results(report_dir, results, depth, seed)
    table = Table(title=f"parity selftest (memory vs planted faults, ≤{max_calls} steps)")
    for column in (
        "fault",
        "planted bug",
        "on",
        "caught?",
        "by",
        "shrunk steps",
        "replays?",
        "s",
        "trace",
    ):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.fault,
            r.description,
            r.base,
            "yes" if r.caught else "[bold red]NO[/]",
            r.where or "-",
            str(r.steps) if r.steps is not None else "-",
            "yes" if r.replays else "[bold red]no[/]",
            f"{r.seconds:.0f}",
            r.trace or "-",
        )
    console.print(table)
    caught = sum(r.ok for r in results)
    console.print(f"{caught}/{len(results)} planted faults caught, shrunk and replayed")
    console.print(f"results: {report_dir / 'selftest.json'}, {report_dir / 'selftest.md'}")
    lengths = [r.steps for r in results if r.steps is not None]
    if lengths:
        console.print(f"shrunk lengths: median {statistics.median(lengths):g} calls")
    return 0 if caught == len(results) else 1


def write_results(report_dir: Path, results: list[FaultResult], depth: Depth, seed: int) -> None:
    """``selftest.json`` and a Markdown table beside the per-fault reports: the record a
    sign-off keeps (what was planted where, caught by what, in how many calls)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "kind": "parity-selftest",
        "seed": seed,
        "depth": asdict(depth),
        "caught": sum(r.caught for r in results),
        "ok": sum(r.ok for r in results),
        "faults": [{**asdict(r), "ok": r.ok} for r in results],
    }
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    (report_dir / "selftest.json").write_text(text, encoding="utf-8")
    lines = [
        f"# parity selftest: {data['caught']}/{len(results)} caught",
        "",
        f"Seed {seed}; {depth.examples} examples of {depth.steps} steps per scenario"
        f" (caps {depth.scenario_max_examples or 'none'}), shrinking in"
        f" {depth.shrink_examples or 'unbounded'} examples.",
        "",
        "| fault | planted bug | on | caught by | shrunk calls | replays | seconds |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| `{r.fault}` | {r.description} | `{r.base}` | "
            f"{r.where or '**not caught**'} | {r.steps if r.steps is not None else '-'} | "
            f"{'yes' if r.replays else 'no'} | {r.seconds:.0f} |"
            for r in results
        ),
    ]
    (report_dir / "selftest.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
