"""Parity's pytest plugin (entry point ``pytest11: parity``).

Harmless when unused: it adds options and fixtures, imports nothing heavy until a
fixture is requested, and changes no test it was not asked about.

- ``--parity-backends memory,sqlite`` — the engines the fixtures provision.
- ``parity_backends`` (session) — started engines + target factories; a missing engine
  fails the tests that use it with one line (an infrastructure error).
- ``parity_session`` — a fresh :class:`~parity.lockstep.LockstepSession` whose namespaces
  carry the xdist worker id, so parallel workers never share data.
- ``parity_check`` — run a lockstep machine class under Hypothesis on those backends.
- ``parity_shard`` — used by ``parity run -n N``: see :mod:`parity.xdist`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from parity.lockstep.machine import LockstepMachine
    from parity.lockstep.session import LockstepSession
    from parity.run.backends import Backends


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
    from parity.lockstep.session import LockstepSession

    label = "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:20]
    session = LockstepSession(
        parity_backends.factories,
        parity_backends.reference,
        namespace_prefix=f"t_{worker_id()}_{label}",
        engines=parity_backends.info,
        options=parity_backends.diff,
        seed=request.config.getoption("--parity-seed"),
    )
    yield session
    session.close()


@pytest.fixture
def parity_check(
    parity_session: LockstepSession, request: pytest.FixtureRequest
) -> Callable[..., None]:
    """``parity_check(MachineClass, examples=None, steps=20)``: fail with the
    side-by-side diff when a backend diverges."""
    from parity.run.scenario import hypothesis_run

    def check(machine: type[LockstepMachine], examples: int | None = None, steps: int = 20) -> None:
        n = examples or request.config.getoption("--parity-examples")
        error = hypothesis_run(
            machine.bind(parity_session), n, steps, request.config.getoption("--parity-seed")
        )
        if error is not None:
            final = parity_session.final
            step = final.trace.divergent_step if final else None
            if step is not None:
                text = "\n\n".join(step.rendered[b] for b in sorted(step.differences))
                pytest.fail(f"parity divergence:\n{text}", pytrace=False)
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
