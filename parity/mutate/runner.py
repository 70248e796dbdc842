"""Run Parity once per mutant of a backend module and score what it caught.

First the unmutated run must be green with the same options (else every mutant would
look "caught"). Then each mutant runs in its own process (``python -m
parity.mutate.hook run ...`` with ``PARITY_MUTANT`` set), in its own process group so a
mutant that hangs is stopped with every engine it started. Outcomes:

- ``caught``: Parity reported a divergence or a contract failure (exit 1);
- ``crashed``: the run ended in an infrastructure error (exit 2): the mutant broke the
  backend outright; counted as caught, shown apart;
- ``timeout``: longer than ``--timeout`` (a mutant that loops); counted as caught;
- ``survived``: exit 0, no scenario noticed. These are the list to read.

A mutant needs a verdict, not a shrunk trace: every child runs ``--fail-fast`` (it stops
at the first failing scenario) and ``--shrink-examples 0`` (no shrinking, no minimizer),
so a caught mutant costs the examples up to its first divergence, not the whole suite.

``mutation.json`` and ``mutation.md`` go to the report directory, rewritten after every
mutant: a run stopped halfway leaves its partial score. ``--jobs N`` runs N mutants at
once (each child is a process of its own, in its own process group).
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

from parity.config import ConfigError
from parity.mutate.hook import ENV
from parity.mutate.operators import Mutant, find_mutants
from parity.reaper import remove_temp_dir, temp_dir

OUTCOMES = {0: "survived", 1: "caught", 2: "crashed"}
DETECTED = ("caught", "crashed", "timeout")
#: what every child ``parity run`` gets besides the user's options: a verdict, fast
VERDICT_ONLY = ("--fail-fast", "--shrink-examples", "0")


@dataclass(frozen=True)
class MutateOptions:
    module: str
    run_args: tuple[str, ...]  # passed to `parity run` (backends, suite, examples, seed…)
    report_dir: Path
    max_mutants: int | None = None
    seed: int = 0
    timeout: float | None = None  # default: 3 x the unmutated run + 30 s
    jobs: int = 1  # mutants run at once


@dataclass
class MutantResult:
    index: int
    line: int
    description: str
    outcome: str
    seconds: float
    #: the first failing cell ("scenarios/ledger on sqlite") when caught: which scenario
    #: noticed, and where the child spent its time
    caught_by: str = ""


def first_failure(report_dir: Path) -> str:
    """The first failing (or erroring) cell of a child run's ``parity.json``, if any."""
    try:
        cells = json.loads((report_dir / "parity.json").read_text())["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    for key, row in cells.items():
        for backend, cell in row.items():
            if cell.get("status") in ("fail", "error"):
                return f"{key} on {backend}"
    return ""


def module_source(module: str) -> tuple[Path, str]:
    """The module's file and source, found without importing the module itself."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"parity mutate: cannot find module {module!r}: {exc}") from None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise ConfigError(f"parity mutate: {module!r} is not a Python source module")
    path = Path(spec.origin)
    return path, path.read_text(encoding="utf-8")


def choose(mutants: list[Mutant], limit: int | None, seed: int) -> list[Mutant]:
    """All mutants, or ``limit`` of them drawn with ``seed`` (in source order)."""
    if limit is None or limit >= len(mutants):
        return mutants
    picked = random.Random(seed).sample(mutants, limit)
    return sorted(picked, key=lambda m: m.index)


class Children:
    """The child runs still going. With ``--jobs N`` they are waited on by worker threads,
    which an interrupt does not reach: :meth:`stop_all` stops every child's process group
    from the main thread, and no child starts after it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[str]] = set()
        self._stopping = False

    def start(self, command: list[str], env: dict[str, str]) -> subprocess.Popen[str] | None:
        with self._lock:
            if self._stopping:
                return None
            proc = subprocess.Popen(
                command,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its own process group: a timeout stops its engines
            )
            self._live.add(proc)
            return proc

    def done(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._live.discard(proc)

    def stop_all(self) -> None:
        with self._lock:
            self._stopping = True
            live = list(self._live)
        for proc in live:
            _stop_group(proc)


def _run_child(
    module: str,
    run_args: Sequence[str],
    mutant: int | None,
    timeout: float | None,
    children: Children | None = None,
) -> tuple[str, float]:
    """One ``parity run`` in a child process, with mutant ``mutant`` of ``module`` loaded."""
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if mutant is not None:
        env[ENV] = f"{module}:{mutant}"
    command = [sys.executable, "-m", "parity.mutate.hook", "run", *run_args, *VERDICT_ONLY]
    started = time.perf_counter()
    children = children or Children()
    proc = children.start(command, env)
    if proc is None:  # stopping: an interrupt in the main thread
        raise KeyboardInterrupt
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(proc)
        return "timeout", time.perf_counter() - started
    except BaseException:
        _stop_group(proc)
        raise
    finally:
        children.done(proc)
    outcome = OUTCOMES.get(proc.returncode, "crashed")
    if mutant is None and outcome != "survived":
        last = (stderr or "").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        raise ConfigError(
            f"parity mutate: the unmutated run is not green (exit {proc.returncode}: "
            f"{last[0]}); fix that first, or every mutant would count as caught"
        )
    return outcome, time.perf_counter() - started


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """SIGTERM the run's process group (Parity stops its engines), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_mutate(options: MutateOptions) -> int:
    path, source = module_source(options.module)
    mutants = choose(find_mutants(source), options.max_mutants, options.seed)
    if not mutants:
        raise ConfigError(f"parity mutate: {options.module} offers no mutations")
    # Each child run's report dir: only its exit status counts, so it goes at the end
    # (by the watchdog if this process is killed).
    scratch = temp_dir("mutate")
    try:
        results = _run_mutants(options, path, mutants, scratch)
    finally:
        remove_temp_dir(scratch)
    detected = sum(r.outcome in DETECTED for r in results)
    survivors = [f"#{r.index}" for r in results if r.outcome == "survived"]
    print(
        f"detection score {detected}/{len(results)} = {detected / len(results):.0%}; "
        f"survivors: {', '.join(survivors) or 'none'}"
    )
    print(f"reports: {options.report_dir / 'mutation.json'}, {options.report_dir / 'mutation.md'}")
    return 0


def _run_mutants(
    options: MutateOptions, path: Path, mutants: list[Mutant], scratch: Path
) -> list[MutantResult]:
    def args(tag: str) -> list[str]:
        return [*options.run_args, "--report-dir", str(scratch / tag)]

    print(f"parity mutate: {options.module} ({path}): {len(mutants)} mutants", flush=True)
    _, baseline = _run_child(options.module, args("unmutated"), None, None)
    timeout = options.timeout or baseline * 3 + 30
    print(f"unmutated run: green in {baseline:.1f}s; timeout per mutant {timeout:.0f}s", flush=True)
    children = Children()

    def one(mutant: Mutant) -> MutantResult:
        tag = f"m{mutant.index}"
        outcome, seconds = _run_child(options.module, args(tag), mutant.index, timeout, children)
        by = first_failure(scratch / tag) if outcome == "caught" else ""
        return MutantResult(mutant.index, mutant.line, mutant.description, outcome, seconds, by)

    results: list[MutantResult] = []
    pool = ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="parity-mutant")
    try:
        futures = {pool.submit(one, mutant): mutant for mutant in mutants}
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            results.sort(key=lambda r: r.index)
            write_reports(options, path, results, planned=len(mutants))
            label = futures[future].label()
            print(
                f"[{len(results)}/{len(mutants)}] {result.outcome:8} {label} "
                f"({result.seconds:.1f}s)",
                flush=True,
            )
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        children.stop_all()
        raise
    finally:
        pool.shutdown(wait=True)
    return results


def write_reports(
    options: MutateOptions, path: Path, results: list[MutantResult], planned: int
) -> None:
    """``mutation.json`` and ``mutation.md`` for the mutants run so far (of ``planned``)."""
    detected = sum(r.outcome in DETECTED for r in results)
    run_args = [*options.run_args, *VERDICT_ONLY]
    data = {
        "kind": "parity-mutation",
        "module": options.module,
        "file": str(path),
        "run_args": run_args,
        "planned": planned,
        "complete": len(results) == planned,
        "mutants": len(results),
        "detected": detected,
        "score": round(detected / len(results), 4) if results else None,
        "results": [asdict(r) for r in results],
    }
    options.report_dir.mkdir(parents=True, exist_ok=True)
    (options.report_dir / "mutation.json").write_text(json.dumps(data, indent=2) + "\n")
    partial = "" if data["complete"] else f" (partial: {len(results)} of {planned} mutants run)"
    lines = [
        f"# Mutation score: {detected}/{len(results)} ({data['score']:.0%}){partial}",
        "",
        f"`{options.module}` with `parity run {' '.join(run_args)}`.",
        "",
        "| mutant | line | change | outcome | seconds | caught by |",
        "|---|---|---|---|---|---|",
        *(
            f"| #{r.index} | {r.line} | `{r.description}` | {r.outcome} | {r.seconds:.1f} "
            f"| {r.caught_by} |"
            for r in results
        ),
    ]
    (options.report_dir / "mutation.md").write_text("\n".join(lines) + "\n")
