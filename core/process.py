"""Process plumbing shared by every worker pool: die with the process that owns you (Linux)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (elsewhere: nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def wait_for_exit(pid: int) -> None:
    """Block until process ``pid`` is gone."""
    try:
        fd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                pass
            time.sleep(1.0)
    select.select([fd], [], [])


def exit_with(pid: int) -> None:
    """End this process as soon as process ``pid`` is gone.

    Pool processes of a fork server are not children of the process that owns the pool, so
    ``PR_SET_PDEATHSIG`` alone does not fire when that owner is killed with SIGKILL; a thread
    waiting on its pidfd does. If ``pid`` is already gone, this process exits at once.
    """

    def watch() -> None:
        wait_for_exit(pid)
        os._exit(1)

    threading.Thread(target=watch, name=f"exit with {pid}", daemon=True).start()
