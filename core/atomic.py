"""Durable file writes: temp file in the target directory, fsync, atomic rename, fsync the directory."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

TMP_PREFIX = ".woa-tmp-"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(dest: Path, writer: Callable[[BinaryIO], None]) -> None:
    """Call ``writer`` with a temp file beside ``dest``, then make it ``dest`` in one rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
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
