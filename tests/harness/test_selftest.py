"""``parity selftest``: every planted fault is caught, shrunk to at most 8 calls, and its
saved trace replays to the same divergence.

Two faults run in every test run; all ten with ``PARITY_SLOW=1`` (or ``-m slow``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from parity.config import load_config
from parity.selftest.runner import MAX_STEPS, Depth, check_fault

ROOT = Path(__file__).resolve().parents[2]


#: quick enough for every test run; the others take minutes on 2 cores (slow marker)
QUICK = ("wrong-status", "lost-update")
#: the reference app's core faults (scenarios/faults/__init__.py)
CORE_FAULTS: tuple[str, ...] = (
    "lost-update",
    "expired-key",
    "outbox-gap",
    "pagination-skip",
    "wrong-status",
    "rounding",
)
#: the faults only a dedicated scenario catches (scenarios/faults/scenario.py)
SCENARIO_FAULTS: tuple[str, ...] = (
    "interleaved-lost-update",
    "ttl-boundary",
    "outbox-retry-reorder",
    "outbox-delete-early",
)


@pytest.mark.parametrize(
    "fault",
    [
        f if f in QUICK else pytest.param(f, marks=pytest.mark.slow)
        for f in CORE_FAULTS + SCENARIO_FAULTS
    ],
)
def test_planted_fault_is_caught_shrunk_and_replayable(fault: str, tmp_path: Path) -> None:
    config = load_config(ROOT / "pyproject.toml").with_overrides(
        reference="memory", regressions=tmp_path / "none"
    )
    result = check_fault(fault, config, Depth(examples=200, steps=15), 0, tmp_path)
    assert result.caught, f"{fault} was not caught"
    assert result.steps is not None and result.steps <= MAX_STEPS, result
    assert result.replays, f"{fault}: the saved trace did not replay to the same divergence"


def test_selftest_prints_a_line_per_fault_as_it_ends(tmp_path: Path) -> None:
    """A piped selftest is never silent for minutes: each fault's verdict is printed as
    soon as that fault is done, on one unwrapped line."""
    import io

    from rich.console import Console

    from parity.selftest.runner import run_selftest

    out = io.StringIO()
    config = load_config(ROOT / "pyproject.toml")
    code = run_selftest(
        config,
        Depth(examples=200),
        seed=0,
        report_dir=tmp_path,
        faults=["wrong-status"],
        console=Console(file=out, width=40, highlight=False),
    )
    lines = out.getvalue().splitlines()
    progress = [line for line in lines if line.startswith("[1/1] wrong-status: ")]
    assert progress, out.getvalue()
    assert "caught, shrunk to" in progress[0] and progress[0].endswith(" s)"), progress[0]
    assert code == 0
