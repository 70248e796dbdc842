"""No orphans: a run leaves nothing behind in the temp dir or the process table.

Each run gets a private ``TMPDIR``; afterwards no ``parity-*`` dir is left in it and no
process refers to it (engines and watchdogs inherit it: environment, working dir or
command line). Covered: a finished ``parity run`` with process engines (their logs went
with them; they were kept "for the report" and piled up by the hundred in ``/tmp``), one
interrupted by SIGTERM, a pytest run of ``parity_check`` interrupted by SIGTERM, and a
process killed outright while its temp dir was held by nothing (a PostgreSQL cluster
killed during ``initdb``): the watchdog removes what the process declared its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from parity.engines.registry import create_engine
from parity.reaper import run_whole
from tests.processes import alive, parity_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """A ``TMPDIR`` of the test's own. Not under pytest's ``tmp_path``: that is private
    to root, and a PostgreSQL cluster run as the ``postgres`` user must reach into it."""
    path = Path(tempfile.mkdtemp(prefix="orphans-"))
    path.chmod(0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _engines() -> list[str]:
    names = [n for n in ("dynamodb@moto-server", "postgres@local") if not create_engine(n).probe()]
    if not names:
        pytest.skip("neither dynamodb@moto-server nor postgres@local is available here")
    return names


def _prefix(name: str) -> str:
    return {"dynamodb@moto-server": "parity-moto-server-", "postgres@local": "parity-pg-"}[name]


def _users_of(path: Path) -> list[str]:
    """Live processes whose environment, working dir or command line names ``path``."""
    needle = str(path).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            named = [cmdline, (entry / "environ").read_bytes(), os.readlink(entry / "cwd").encode()]
        except OSError:
            continue
        if any(needle in part for part in named) and alive(int(entry.name)):
            shown = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name}: {shown}")
    return found


def _assert_nothing_left(tmp: Path, grace: float) -> None:
    """No ``parity-*`` dir in ``tmp`` and, within ``grace`` seconds (a watchdog notices
    its process is gone within half a second), no process using it."""
    deadline = time.monotonic() + grace
    while _users_of(tmp) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _users_of(tmp), f"processes left behind: {_users_of(tmp)}"
    assert sorted(p.name for p in tmp.glob("parity-*")) == []


def _env(tmp: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},
        "TMPDIR": str(tmp),
    }


def test_a_finished_run_removes_its_engines_temp_dirs(private_tmp: Path, tmp_path: Path) -> None:
    backends = ",".join(["memory", *_engines()])
    proc = subprocess.run(
        parity_command("run", "--backends", backends, "--scenarios", "ledger",
                       "--examples", "2", "--no-regressions", "--report-dir", str(tmp_path)),
        cwd=ROOT, env=_env(private_tmp), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _assert_nothing_left(private_tmp, grace=5)


def _sigint_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_once_started(
    command: list[str], cwd: Path, tmp: Path, names: list[str]
) -> subprocess.CompletedProcess[str]:
    """Start ``command``, SIGTERM it a moment after every engine's temp dir appeared."""
    proc = subprocess.Popen(
        command, cwd=cwd, env=_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=_sigint_as_in_a_terminal,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if all(any(tmp.glob(_prefix(n) + "*")) for n in names):
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before its engines started"
        time.sleep(3)  # engines up, into the examples (on a loaded machine: maybe not yet)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def test_a_run_interrupted_by_sigterm_leaves_no_engine_or_temp_dir(
    private_tmp: Path, tmp_path: Path
) -> None:
    names = _engines()
    command = parity_command(
        "run", "--backends", ",".join(["memory", *names]), "--scenarios", "ledger",
        "--examples", "1000", "--no-regressions", "--report-dir", str(tmp_path),
    )  # fmt: skip
    done = _interrupt_once_started(command, ROOT, private_tmp, names)
    assert done.returncode == 2 and "parity: interrupted" in done.stderr, done.stderr
    _assert_nothing_left(private_tmp, grace=10)


USER_TEST = """
from scenarios.ledger import LedgerScenario


def test_ledger_in_lockstep(parity_check):
    parity_check(LedgerScenario, examples=1000, steps=8)
"""


def test_a_pytest_run_interrupted_by_sigterm_leaves_no_engine_or_temp_dir(
    private_tmp: Path, tmp_path: Path
) -> None:
    names = _engines()
    (tmp_path / "test_user.py").write_text(USER_TEST)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore",
        "--parity-backends", ",".join(["memory", *names]),
        "--parity-report-dir", str(tmp_path / "out"), "test_user.py",
    ]  # fmt: skip
    done = _interrupt_once_started(command, tmp_path, private_tmp, names)
    # pytest's interrupted exit, fixtures torn down (not death by SIGTERM: -15)
    assert done.returncode == pytest.ExitCode.INTERRUPTED, done.stdout + done.stderr
    _assert_nothing_left(private_tmp, grace=10)


# A process that creates a temp dir nothing holds open (as initdb's dir is between its
# short writes) and is killed before it can remove it.
_HOLDER = """
import sys, time
from parity.reaper import disown, temp_dir

owned = temp_dir("probe")
kept = temp_dir("kept")
disown(kept)  # kept on purpose, like the log of an engine that failed to start
print(owned, kept, flush=True)
time.sleep(300)
"""


@contextlib.contextmanager
def _script(source: str, tmp: Path) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """``source`` running in a Python process of its own (``TMPDIR`` = ``tmp``), with the
    words of the first line it prints; killed at the end if still running."""
    proc = subprocess.Popen(
        [sys.executable, "-c", source], cwd=ROOT, env=_env(tmp), stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield proc, proc.stdout.readline().split()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def _kill_and_wait(proc: subprocess.Popen[str], until: Callable[[], bool]) -> None:
    """SIGKILL ``proc``, then give its watchdog up to 15 s to make ``until`` true."""
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 15
    while not until() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_killed_process_temp_dir_is_removed_by_its_watchdog(private_tmp: Path) -> None:
    with _script(_HOLDER, private_tmp) as (proc, words):
        owned, kept = (Path(p) for p in words)
        assert owned.is_dir() and kept.is_dir()
        _kill_and_wait(proc, lambda: not owned.exists())
        assert not owned.exists(), "the killed process's temp dir is still there"
        assert kept.is_dir()  # a disowned dir is not the watchdog's to remove


_SPAWNER = """
import subprocess, sys, tempfile, time
from parity.reaper import watch

watch()
time.sleep(1.2)  # the watchdog has made passes before the child exists
held = tempfile.mkdtemp(prefix="parity-undeclared-")  # not declared with own()
child = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(300)"],  # holds it as its working dir
    cwd=held, start_new_session=True,
)
print(held, child.pid, flush=True)
time.sleep(300)
"""


def test_a_killed_process_childs_undeclared_temp_dir_goes_with_the_child(
    private_tmp: Path,
) -> None:
    """The fallback for a dir nobody declared: the watchdog finds it among a
    descendant's open files and working dir (looked at once per descendant, not on
    every pass: a JVM's thousands of open files made each pass cost ~0.6 s), kills the child
    and removes the dir when the watched process is killed."""
    with _script(_SPAWNER, private_tmp) as (proc, (held, pid)):
        time.sleep(1.5)  # a few passes with the child
        assert alive(int(pid))
        _kill_and_wait(proc, lambda: not Path(held).exists() and not alive(int(pid)))
        assert not alive(int(pid)), "the killed process's child is still running"
        assert not Path(held).exists(), "the dir its child held is still there"


def test_a_helper_program_cut_short_takes_its_children_with_it(tmp_path: Path) -> None:
    """``initdb`` behind ``runuser`` (or the server ``mariadb-install-db`` bootstraps)
    interrupted: the whole program goes, not only the process started, so nothing
    writes into the temp dir its engine removes next."""
    pidfile = tmp_path / "child.pid"
    script = f"sleep 300 & echo $! > {pidfile}; wait"
    with pytest.raises(subprocess.TimeoutExpired):
        run_whole(["sh", "-c", script], timeout=2)
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:  # killed; init reaps it
        time.sleep(0.05)
    assert not alive(child), "the program's child outlived it"
    done = run_whole(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
