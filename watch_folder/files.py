"""Durable moves out of the inbox, error notes, and clean-up of temp files left by a killed worker."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
from pathlib import Path

from core.atomic import TMP_PREFIX, fsync_dir, write_bytes_atomic

ERROR_SUFFIX = ".error.txt"


def unique_destination(dest: Path) -> Path:
    """``dest`` if free, else ``name (1).ext``, ``name (2).ext`` ... (also keeping the error note free)."""
    candidate = dest
    n = 0
    while candidate.exists() or candidate.with_name(candidate.name + ERROR_SUFFIX).exists():
        n += 1
        candidate = dest.with_name(f"{dest.stem} ({n}){dest.suffix}")
    return candidate


def move_durably(src: Path, dest: Path) -> None:
    """Rename ``src`` to ``dest`` (copy + fsync + unlink across filesystems), then fsync both folders."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(src, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = dest.with_name(TMP_PREFIX + dest.name)
        if os.path.islink(src):  # a link moves as a link (its target may be gone)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(os.readlink(src), tmp)
        else:
            with open(src, "rb") as fin, open(tmp, "wb") as fout:
                shutil.copyfileobj(fin, fout, 1024 * 1024)
                fout.flush()
                os.fsync(fout.fileno())
            shutil.copystat(src, tmp)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
        os.unlink(src)
    fsync_dir(dest.parent)
    fsync_dir(src.parent)


def delete_durably(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fsync_dir(path.parent)


def write_error_note(dest: Path, reason: str, details: dict[str, str]) -> Path:
    note = dest.with_name(dest.name + ERROR_SUFFIX)
    lines = [reason.strip(), ""] + [f"{k}: {v}" for k, v in details.items()]
    write_bytes_atomic(note, ("\n".join(lines) + "\n").encode("utf-8"))
    return note


def _open_paths() -> set[str] | None:
    """Every file some process holds open, from /proc; None if /proc cannot be read."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    paths: set[str] = set()
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            fds = list((pid_dir / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                paths.add(os.readlink(fd))
    return paths


def remove_stale_temps(root: Path, *, min_age: float = 1.0, now: float | None = None) -> list[Path]:
    """Delete ``.woa-tmp-*`` files under ``root`` that no process has open and nobody touched lately.

    A writer holds its temp file open until just before the rename, so "not open by anyone and
    older than ``min_age``" means its writer died. Without /proc the age alone decides (60 s).
    """
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    open_paths = _open_paths()
    age = min_age if open_paths is not None else max(min_age, 60.0)
    removed: list[Path] = []
    for path in root.rglob(TMP_PREFIX + "*"):
        try:
            if not path.is_file() or now - path.stat().st_mtime < age:
                continue
            if open_paths is not None and str(path) in open_paths:
                continue
            path.unlink()
            removed.append(path)
        except OSError:
            continue
    return removed
