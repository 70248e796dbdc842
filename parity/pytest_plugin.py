"""Parity's pytest plugin (entry point ``pytest11: parity``).

Harmless when unused: it adds options and fixtures, imports nothing heavy until a
fixture is requested, and changes no test it was not asked about.

- ``--parity-backends memory,sqlite`` — the engines the fixtures provision.
- ``parity_backends`` (session) — started engines + target factories; a missing engine
  fails the tests that use it with one line (an infrastructure error).
- ``parity_session`` — a fresh :class:`~parity.lockstep.LockstepSession` whose namespaces
  carry the xdist worker id, so parallel workers never share data.
- ``parity_check`` — run a lockstep machine class under Hypothesis on those backends; a
  divergence is minimized as ``parity run`` does it (the calls Hypothesis's shrink left in
  are left out by replaying without them), then fails the test with those calls and the
  diff, saves the trace under ``<report dir>/failures/`` and prints its ``parity replay``
  command. App logs of the run go to ``<report dir>/pytest-app.log``, not into the
  test's captured output.
- ``parity_shard`` — used by ``parity run -n N``: see :mod:`parity.xdist`.

A test using these fixtures is interrupted as ``parity run`` is (see
:mod:`parity.interrupts`): SIGTERM ends it like Ctrl-C, with the engines stopped, and a
``KeyboardInterrupt`` Python swallowed inside Hypothesis's gc callback is raised again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from parity.lockstep.machine import LockstepMachine
    from parity.lockstep.session import LockstepSession
    from parity.run.backends import Backends
    from parity.trace.model import Trace


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("parity", "Parity: lockstep backends")
    group.addoption(
        "--parity-backends",
        default=None,
        help="comma-separated engines for parity fixtures (default: serverless)",
    )
    group.addoption(
        "--parity-examples",
        type=int,
        default=25,
        help="Hypothesis examples per parity_check (default 25)",
    )
    group.addoption("--parity-seed", type=int, default=0, help="seed for parity_check")
    group.addoption(
        "--parity-report-dir",
        default=None,
        help="where parity_check saves failure traces and app logs "
        "(default: [tool.parity] report_dir)",
    )
    group.addoption("--parity-shard-spec", default=None, help=argparse_hidden())


def argparse_hidden() -> str:
    return "internal: JSON options of a `parity run -n N` shard"


def worker_id() -> str:
    """The xdist worker (``gw0``…), or ``main`` outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def parity_backends(request: pytest.FixtureRequest) -> Iterator[Backends]:
    from parity.config import load_config
    from parity.run.backends import InfraError, default_backends, parse_backends, provision

    config = load_config(start=request.config.rootpath)
    option = request.config.getoption("--parity-backends")
    names = parse_backends(option) if option else list(config.backends) or default_backends()
    try:
        backends = provision(names, config, request.config.getoption("--parity-seed"))
    except InfraError as exc:
        pytest.fail(f"parity: {exc}", pytrace=False)
    yield backends
    backends.close()


@pytest.fixture
def parity_session(
    parity_backends: Backends, request: pytest.FixtureRequest
) -> Iterator[LockstepSession]:
    from parity.config import load_config
    from parity.lockstep.session import LockstepSession
    from parity.run.backends import app_record

    label = "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:20]
    config = load_config(start=request.config.rootpath)
    session = LockstepSession(
        parity_backends.factories,
        parity_backends.reference,
        namespace_prefix=f"t_{worker_id()}_{label}",
        engines=parity_backends.info,
        options=parity_backends.diff,
        # what a saved trace records of the app, so `parity replay` accepts it
        app=app_record(parity_backends, config),
        seed=request.config.getoption("--parity-seed"),
        shrink_examples=config.shrink_examples,  # [tool.parity], as `parity run` reads it
    )
    yield session
    session.close()


def report_dir(config: pytest.Config) -> Path:
    option = config.getoption("--parity-report-dir")
    if option:
        return Path(option)
    from parity.config import load_config

    return Path(load_config(start=config.rootpath).report_dir)


@contextlib.contextmanager
def app_logs_to(path: Path) -> Iterator[Path]:
    """Every log record of the block goes to ``path`` and nowhere else: a failing
    example's apps log each failed call, and pytest would print them all as "Captured
    log call" under the one line that matters."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [handler]
    try:
        yield path
    finally:
        root.handlers = saved
        handler.close()


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is below it (shorter to paste)."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def failure_text(trace: Trace, path: Path, log: Path, found: Trace | None = None) -> str:
    """What a failing ``parity_check`` prints: calls, the highlighted diff, the replay.
    ``found`` is the trace before minimizing, when that left calls out."""
    from parity.report.repro import call_line, reproduction
    from parity.trace.minimize import replay_hint

    step = trace.divergent_step
    assert step is not None
    calls = reproduction(trace)["calls"]
    before = len(reproduction(found)["calls"]) if found is not None else len(calls)
    count = f"{len(calls)}; minimized from {before}" if before > len(calls) else f"{len(calls)}"
    lines = [
        f"parity divergence in {trace.scenario}: {', '.join(sorted(step.differences))} "
        f"differ from {trace.reference} at step {step.index} of {len(trace.steps)}",
        f"calls ({count}):",
        *(f"  {call_line(c, trace.reference)}" for c in calls),
        "",
        "\n\n".join(step.rendered[b] for b in sorted(step.differences)),
        "",
        "replay: "
        + replay_hint(
            shlex.join(["parity", "replay", _shown(path), "--backends", ",".join(trace.backends)]),
            trace,
        ),
        f"app logs: {shlex.quote(_shown(log))}",
    ]
    return "\n".join(lines)


@pytest.fixture
def parity_check(
    parity_session: LockstepSession, request: pytest.FixtureRequest
) -> Callable[..., None]:
    """``parity_check(MachineClass, examples=None, steps=20)``: fail with the shrunk
    and minimized calls and the side-by-side diff when a backend diverges; the trace is
    saved and its replay command printed. The same trace ``parity run`` would save:
    Hypothesis's shrink, then :func:`~parity.trace.minimize.minimize`."""
    from parity.lockstep.divergence import find_backend_down
    from parity.run.scenario import found_trace, hypothesis_run
    from parity.trace.minimize import minimize
    from parity.trace.store import save_failure

    def check(machine: type[LockstepMachine], examples: int | None = None, steps: int = 20) -> None:
        n = examples or request.config.getoption("--parity-examples")
        directory = report_dir(request.config)
        log = directory / "pytest-app.log"
        with app_logs_to(log):  # minimizing replays calls: their logs go there too
            error = hypothesis_run(
                machine.bind(parity_session), n, steps, request.config.getoption("--parity-seed")
            )
            if error is None:
                return
            found = found_trace(parity_session, error)
            trace = found
            if found is not None and parity_session.down is None:
                trace = minimize(found, parity_session)  # calls Hypothesis's shrink left in
        down = parity_session.down or find_backend_down(error)
        if down is not None:  # a store gone: an infrastructure error, not a verdict
            pytest.fail(f"parity: {down}", pytrace=False)
        if trace is not None and trace.divergent_step is not None:
            path = save_failure(trace, directory)
            pytest.fail(failure_text(trace, path, log, found), pytrace=False)
        raise error

    return check


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "parity_shard" in metafunc.fixturenames:
        spec = metafunc.config.getoption("--parity-shard-spec")
        shards = int(_spec(spec).get("shards", 1)) if spec else 1
        metafunc.parametrize("parity_shard", range(shards))


def _spec(text: str) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(text)
    return data


#: the fixtures that start engines or run Hypothesis against them
PARITY_FIXTURES = frozenset({"parity_backends", "parity_session", "parity_check", "parity_shard"})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """A test using Parity's fixtures (set-up, call and tear-down, where the session's
    engines stop) runs :func:`~parity.interrupts.interruptible`: Ctrl-C inside
    Hypothesis's gc callback would otherwise be swallowed and the test run on, and
    SIGTERM would end pytest without a ``finally`` (engines left to the watchdog). Other
    tests keep pytest's own signal handling."""
    if PARITY_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
        return (yield)
    from parity.interrupts import interruptible

    with interruptible():
        return (yield)


def pytest_configure(config: pytest.Config) -> None:
    """Every pytest process (xdist workers too) gets a watchdog: engines it starts die
    with it even when it is killed (see :mod:`parity.reaper`)."""
    from parity.reaper import watch

    watch()
