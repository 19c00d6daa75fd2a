"""Worker processes that end with their coordinator, and take their own children with them.

A coordinator makes one :class:`Lifeline` (a pipe whose write end only it holds) before it
starts workers. Each worker, first thing after the fork, calls :func:`become_worker`:

* it closes the pipe ends it inherited and does not own (its coordinator's ends of every
  worker's pipe, its own included), so that nothing keeps a dead coordinator's pipes open;
* it becomes the leader of a new process group, so that the processes it starts (DataLoader
  workers, subprocesses) are in that group, and Ctrl-C in a terminal reaches only the
  coordinator, which then ends its workers;
* on Linux, it asks the kernel to SIGKILL it when the coordinator dies
  (``PR_SET_PDEATHSIG``), then checks the coordinator did not die before that;
* it starts a guard: a small process that waits for the lifeline (or the worker) to close
  and then kills the worker's whole process group. The guard waits in the kernel, so it acts
  even while the worker runs C code that holds the GIL, and on any death of the coordinator
  (SIGKILL, SIGTERM, the OOM killer).

>>> lifeline = Lifeline()
>>> lifeline.alive()
True
>>> lifeline.close()
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys

_PR_SET_PDEATHSIG = 1


class Lifeline:
    """A pipe held open by the coordinator: its read end sees EOF when the coordinator dies."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self.owner = os.getpid()

    def alive(self) -> bool:
        """Whether the write end is still open in this process."""
        return self.write_fd >= 0

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.read_fd = self.write_fd = -1


def become_worker(lifeline: Lifeline, inherited: list[int]) -> None:
    """Sets up a freshly forked worker (see the module docstring). ``inherited``: the file
    descriptors of the coordinator's that this worker must close."""
    for fd in [lifeline.write_fd, *inherited]:
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _die_with_parent(lifeline.owner)
    _start_guard(lifeline.read_fd)


def _die_with_parent(parent: int) -> None:
    """Asks the kernel to SIGKILL this process when its parent dies (Linux); exits at once
    when the parent is gone already."""
    _parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _parent_death_signal(sig: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def _start_guard(lifeline_fd: int) -> None:
    """Forks the guard of this worker's process group (see the module docstring)."""
    worker, group = os.getpid(), os.getpgid(0)
    if os.fork():
        return
    try:  # the guard: no Python-level cleanup, no user code, only this
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGUSR1, lambda *_: _kill_group_and_exit(group))
        _parent_death_signal(signal.SIGUSR1)  # the worker's end: this signal, at once
        _close_all_but(lifeline_fd)
        while os.getppid() == worker:  # (where there is no such signal: checked twice a second)
            try:
                ready, _, _ = select.select([lifeline_fd], [], [], 0.5)
                if ready and not os.read(lifeline_fd, 1):
                    break  # EOF: the coordinator died
            except InterruptedError:
                continue
            except OSError:
                break
    finally:
        _kill_group_and_exit(group)


def _kill_group_and_exit(group: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(group, signal.SIGKILL)
    os._exit(0)


def _close_all_but(keep: int) -> None:
    """Closes every file descriptor above stderr except ``keep``."""
    try:
        limit = os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        limit = 65536
    os.closerange(3, keep)
    os.closerange(keep + 1, max(limit, keep + 1))


def kill_group(pid: int) -> None:
    """Kills a worker and its process group (its children and its guard); the worker alone
    when it is not a group leader (yet)."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
            return
    except (ProcessLookupError, PermissionError):
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
