"""Durable file writes: temp file in the target directory, fsync, atomic rename, fsync the directory."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

TMP_PREFIX = ".woa-tmp-"
_HOST = socket.gethostname().replace("-", "_")


def _owned_prefix() -> str:
    """``.woa-tmp-<pid>@<host>-``: a temp file names its writer, so a dead writer's can be found."""
    return f"{TMP_PREFIX}{os.getpid()}@{_HOST}-"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(dest: Path, writer: Callable[[BinaryIO], None], *, readable: bool = False) -> None:
    """Call ``writer`` with a temp file beside ``dest``, then make it ``dest`` in one rename
    (``readable``: the temp file is open for reading too, so the writer may read back)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_owned_prefix(), dir=dest.parent)
    try:
        with os.fdopen(fd, "w+b" if readable else "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(dest.parent)


def write_bytes_atomic(dest: Path, data: bytes) -> None:
    def _write(fh: BinaryIO) -> None:
        fh.write(data)

    write_atomic(dest, _write)


def write_json_atomic(dest: Path, obj: Any) -> None:
    data = json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False).encode("utf-8")
    write_bytes_atomic(dest, data)


def copy_atomic(src: Path, dest: Path) -> None:
    def _copy(fh: BinaryIO) -> None:
        with open(src, "rb") as s:
            shutil.copyfileobj(s, fh, 1024 * 1024)

    write_atomic(dest, _copy)


def _writer_dead(name: str) -> bool:
    """Whether the temp file ``name`` was left by a process of this host that no longer runs."""
    owner = name[len(TMP_PREFIX):].split("-", 1)[0]
    pid_text, _, host = owner.partition("@")
    if host != _HOST or not pid_text.isdigit():
        return False  # another machine's, or an older name without its writer: not ours to judge
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def remove_dead_temps(dirs: list[Path]) -> list[Path]:
    """Delete the temp files in ``dirs`` (not below) whose writer, a process of this host, is dead
    (killed mid-write: the OOM killer, SIGKILL, a power cut). Returns what was removed."""
    removed: list[Path] = []
    for d in dirs:
        try:
            names = [p for p in d.iterdir() if p.name.startswith(TMP_PREFIX)]
        except OSError:
            continue
        for p in names:
            if _writer_dead(p.name):
                with contextlib.suppress(OSError):
                    p.unlink()
                    removed.append(p)
    return removed


def remove_stale_temps(root: Path) -> int:
    """Delete temp files left by a crash mid-write. Returns how many were removed."""
    n = 0
    if not root.exists():
        return 0
    for p in root.rglob(TMP_PREFIX + "*"):
        try:
            p.unlink()
            n += 1
        except OSError:
            pass
    return n
