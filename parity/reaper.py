"""No orphans: engine processes and temp clusters die with the process that started them.

Engines stop in ``finally`` blocks and atexit hooks, which is enough for Ctrl-C and
SIGTERM but not for SIGKILL (an xdist worker killed by its controller, the OOM killer, a
CI runner's hard timeout): the engines were started in sessions of their own
(``start_new_session``) so they survive, re-parented to init, with their temp dirs.

:func:`watch` starts one small watchdog process per Python process (it runs this file as
a script: no imports from Parity, ~20 ms). Every half second it notes the watched
process's descendants and the ``parity-*`` temp dirs they hold open (cwd, open files:
a PostgreSQL cluster's data dir and log, an emulator's log; a descendant's when it is
first seen, the watched process's own on every pass). When the watched process is
gone it terminates what it last saw (SIGTERM, then SIGKILL: whole process groups, so a
postmaster's backends go too) and, unless the process said goodbye at a normal exit,
removes those temp dirs and the ones the process declared with :func:`own` (a dir
nothing holds open yet: a PostgreSQL cluster killed while ``initdb`` ran, which left
``parity-pg-*`` dirs behind). A pid is only signalled while it still has the start time
it was seen with, so a recycled pid is never hit.

The watched process talks to its watchdog over a pipe, one line per message: ``own
PATH``, ``disown PATH``, and ``bye`` at a normal exit (its engines stopped themselves:
what they kept, such as the log of an engine that failed to start, is theirs to keep).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

#: how often the watchdog refreshes what it would clean up
INTERVAL = 0.5
#: a marker in the watchdog's command line: watchdogs never reap each other
MARK = "parity-reaper"
#: what a watchdog accepts to remove: a dir of this name, directly in the temp dir
PREFIX = "parity-"
_lock = threading.Lock()
_watching: dict[int, subprocess.Popen[bytes]] = {}
#: per watched pid, the write end of its watchdog's pipe
_pipes: dict[int, BinaryIO] = {}


def watch() -> int | None:
    """Start this process's watchdog (once per pid; forks get their own). Its pid, or
    ``None`` where it cannot run (no ``/proc``) or is switched off (``PARITY_REAPER=0``)."""
    if not Path("/proc/self/stat").exists() or os.environ.get("PARITY_REAPER") == "0":
        return None
    pid = os.getpid()
    with _lock:
        if pid in _watching:
            return _watching[pid].pid
        read, write = os.pipe()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", __file__, MARK, str(pid)],
                stdin=read,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C on the terminal must not reach it
                close_fds=True,
            )
        finally:
            os.close(read)
        _watching[pid] = proc
        _pipes[pid] = os.fdopen(write, "wb", buffering=0)
    import atexit

    # The pipe stays open until the process is gone, so the watchdog acts only after
    # every atexit hook (engines stopping themselves) has run, whatever their order.
    atexit.register(_tell, b"bye")
    return proc.pid


def own(path: Path) -> None:
    """``path`` (a ``parity-*`` dir directly in the temp dir, just created) is removed by
    the watchdog if this process dies without saying goodbye, even while nothing holds
    it open. Starts the watchdog if need be."""
    watch()
    _tell(b"own " + os.fsencode(path))


def disown(path: Path) -> None:
    """``path`` is removed already, or kept on purpose (a failed engine's log)."""
    _tell(b"disown " + os.fsencode(path))


def temp_dir(label: str) -> Path:
    """A new ``<tmp>/parity-<label>-*`` dir, owned (see :func:`own`): where an engine
    keeps its data, log and sockets."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{label}-"))
    own(path)
    return path


def remove_temp_dir(path: Path) -> None:
    """Remove a dir made by :func:`temp_dir` (never raises)."""
    shutil.rmtree(path, ignore_errors=True)
    disown(path)


def run_whole(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(command, capture_output=True, text=True, timeout=timeout)``, in
    a process group of its own that is killed whole when the wait is cut short (Ctrl-C,
    SIGTERM, the timeout). ``run`` kills only the process it started: ``initdb`` behind
    ``runuser``, or the server ``mariadb-install-db`` bootstraps, lived on and wrote into
    the temp dir its engine was removing (half-removed ``parity-pg-*`` clusters)."""
    proc = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        raise
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def _tell(message: bytes) -> None:
    """One line to this process's watchdog (nothing when there is none: a fork, or the
    watchdog is off). A write of one short line to a pipe is atomic."""
    with _lock:
        pipe = _pipes.get(os.getpid())
        if pipe is None:
            return
        with contextlib.suppress(OSError):  # the watchdog is gone: nothing to tell
            pipe.write(message + b"\n")


# --- the watchdog (runs as a script) ----------------------------------------------------


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of ``pid``; None when gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return None
    return int(fields[1]), int(fields[19])


def _is_watchdog(pid: int) -> bool:
    try:
        return MARK.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # gone: nothing to reap either


def _descendants(root: int, me: int) -> dict[int, int]:
    """pid -> start time of every live descendant of ``root`` (watchdogs excepted)."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = _stat(int(entry))
            if info is not None:
                children.setdefault(info[0], []).append((int(entry), info[1]))
    found: dict[int, int] = {}
    todo = [root]
    while todo:
        for pid, started in children.get(todo.pop(), []):
            if pid != me and pid not in found and not _is_watchdog(pid):
                found[pid] = started
                todo.append(pid)
    return found


def _temp_dirs(pids: list[int]) -> set[Path]:
    """The ``<tmp>/parity-*`` dirs these processes work in or hold files open in."""
    tmp = Path(tempfile.gettempdir()).resolve()
    dirs: set[Path] = set()
    for pid in pids:
        links = [Path(f"/proc/{pid}/cwd")]
        try:
            links += list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for link in links:
            try:
                target = Path(os.readlink(link))
            except OSError:
                continue
            if tmp not in target.parents:
                continue
            top = tmp / target.relative_to(tmp).parts[0]
            # a file in a parity-* dir, or the dir itself (an engine's working dir)
            if top.name.startswith(PREFIX) and (top != target or top.is_dir()):
                dirs.add(top)
    return dirs


def _same(pid: int, started: int) -> bool:
    info = _stat(pid)
    return info is not None and info[1] == started


def _reap(seen: dict[int, int]) -> None:
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
        alive = {p: s for p, s in seen.items() if _same(p, s)}
        if not alive:
            return
        for pid in alive:
            try:
                pgid = os.getpgid(pid)
                if pgid == pid:  # a group leader (an engine's session): the whole group
                    os.killpg(pgid, sig)
                else:
                    os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_same(p, s) for p, s in alive.items()):
            time.sleep(0.05)


class _Messages:
    """What the watched process said so far (see the module doc)."""

    def __init__(self) -> None:
        self.pending = b""
        self.owned: set[Path] = set()
        self.bye = False

    def feed(self, chunk: bytes) -> None:
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            verb, _, arg = line.partition(b" ")
            if verb == b"bye":
                self.bye = True
            elif verb == b"own" and _removable(Path(os.fsdecode(arg))):
                self.owned.add(Path(os.fsdecode(arg)))
            elif verb == b"disown":
                self.owned.discard(Path(os.fsdecode(arg)))


def _removable(path: Path) -> bool:
    """Only ever a ``parity-*`` dir directly in the temp dir (a garbled or hostile
    message must not name anything else)."""
    tmp = Path(tempfile.gettempdir()).resolve()
    return path.is_absolute() and path.parent.resolve() == tmp and path.name.startswith(PREFIX)


def _read_all(messages: _Messages) -> bool:
    """Take in what the pipe holds; False once it is closed (the watched process and
    every fork holding the pipe are gone)."""
    while True:
        try:
            chunk = os.read(0, 4096)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        messages.feed(chunk)


def _run(parent: int) -> None:
    me = os.getpid()
    os.set_blocking(0, False)
    messages = _Messages()
    seen: dict[int, int] = {}
    dirs: set[Path] = set()
    #: (pid, start time) -> the temp dirs it held when first seen holding any. An engine
    #: takes its data dir and log as it starts; scanning every descendant's open files on
    #: every pass took ~0.6 s a pass at load 8 beside a JVM and a MariaDB server (4,400
    #: open files); the test suite's watchdog used 17.6 % of a core. A descendant seen holding none
    #: (not started yet) is looked at again; the watched process itself, which makes new
    #: dirs as it goes, on every pass.
    held: dict[tuple[int, int], set[Path]] = {}
    while _read_all(messages) and os.getppid() == parent:  # else: re-parented, it is gone
        seen = _descendants(parent, me)
        held = {key: held.get(key) or _temp_dirs([key[0]]) for key in seen.items()}
        dirs = _temp_dirs([parent]).union(*held.values())
        time.sleep(INTERVAL)
    _reap(seen)
    if not messages.bye:  # killed: nobody else will remove its engines' temp dirs
        for path in dirs | messages.owned:
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == MARK:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _run(int(sys.argv[2]))
