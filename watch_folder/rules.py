"""Which inbox files are taken, what they are tagged with, and which folder layouts are refused."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.scanfiles import is_skipped_name

# Folders the service itself writes to; never read even if someone puts them inside the inbox.
RESERVED_TOP_DIRS = frozenset({"processed", "failed"})

NETWORK_FS_TYPES = frozenset(
    {
        "cifs",
        "smb3",
        "smbfs",
        "nfs",
        "nfs4",
        "9p",
        "ceph",
        "glusterfs",
        "afs",
        "davfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.davfs2",
        "fuse.glusterfs",
        "fuse.cephfs",
    }
)


class LayoutError(ValueError):
    """The inbox, archive and output folders are arranged so the service would eat its own output."""


@dataclass(frozen=True)
class Folders:
    inbox: Path
    archive: Path
    failed: Path
    processed: Path


def default_folders(inbox: Path, archive: Path) -> Folders:
    """``failed/`` and ``processed/`` sit beside the inbox (siblings), not inside it."""
    inbox = inbox.resolve()
    return Folders(
        inbox=inbox,
        archive=archive.resolve(),
        failed=inbox.parent / "failed",
        processed=inbox.parent / "processed",
    )


def is_inside(path: Path, root: Path) -> bool:
    """True if ``path`` is ``root`` or lies below it (both resolved)."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def check_layout(folders: Folders) -> None:
    """Refuse layouts where output would be read back as input."""
    if not folders.inbox.is_dir():
        raise LayoutError(f"inbox {folders.inbox} is not a directory")
    for name in ("archive", "failed", "processed"):
        target: Path = getattr(folders, name)
        if is_inside(target, folders.inbox):
            raise LayoutError(f"the {name} folder {target} lies inside the inbox {folders.inbox}")
        if is_inside(folders.inbox, target):
            raise LayoutError(f"the inbox {folders.inbox} lies inside the {name} folder {target}")


def is_ignored_name(name: str) -> bool:
    return is_skipped_name(name)  # the one scan-file filter (core.scanfiles)


def ignored_reason(rel: Path) -> str | None:
    """Why a path relative to the inbox root is skipped, or None when it is a candidate."""
    parts = rel.parts
    if not parts:
        return "inbox root"
    if parts[0].lower() in RESERVED_TOP_DIRS and len(parts) > 1:
        return f"inside reserved folder {parts[0]}/"
    for part in parts[:-1]:
        if is_ignored_name(part):
            return f"inside ignored folder {part}"
    if is_ignored_name(parts[-1]):
        return "temporary or system file"
    return None


def dir_is_ignored(rel: Path) -> bool:
    """Whether a walk should descend into this folder (relative to the inbox root)."""
    parts = rel.parts
    if not parts:
        return False
    if len(parts) == 1 and parts[0].lower() in RESERVED_TOP_DIRS:
        return True
    return any(is_ignored_name(p) for p in parts)


def tags_for(rel: Path) -> dict[str, str]:
    """The first folder level below the inbox names the dealer: ``广州店/x.pdf`` → dealer 广州店."""
    return {"dealer": rel.parts[0]} if len(rel.parts) > 1 else {}


def candidate(inbox: Path, path: Path) -> Path | None:
    """The path relative to ``inbox`` if ``path`` is a file the service should take, else None.

    Symbolic links are taken only when they resolve to a regular file inside the inbox; linked
    folders are never descended into by ``walk_inbox`` and never lead out of the inbox here.
    """
    try:
        rel = path.relative_to(inbox)
    except ValueError:
        return None
    if ignored_reason(rel) is not None:
        return None
    try:
        if not is_inside(path, inbox):  # the file or a folder on its way is a link out of the inbox
            return None
        if not path.is_file():
            return None
    except OSError:
        return None
    return rel


def walk_inbox(inbox: Path, start: Path | None = None) -> list[Path]:
    """Every candidate file below ``inbox`` (or its subfolder ``start``), not following folder links."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(start or inbox, followlinks=False):
        base = Path(dirpath)
        rel_dir = base.relative_to(inbox)
        dirnames[:] = sorted(d for d in dirnames if not dir_is_ignored(rel_dir / d))
        for name in sorted(filenames):
            path = base / name
            if candidate(inbox, path) is not None:
                found.append(path)
    return found


def _unescape_mount(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal (\040 ...).
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def filesystem_type(path: Path, mounts_text: str) -> str:
    """The filesystem type of the mount holding ``path``, from the text of /proc/mounts."""
    target = str(path)
    best, best_type = "", ""
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = _unescape_mount(fields[1])
        prefix = mount_point.rstrip("/") + "/"
        if (target == mount_point or target.startswith(prefix) or mount_point == "/") and len(mount_point) >= len(best):
            best, best_type = mount_point, fields[2]
    return best_type


def is_network_fs(fs_type: str) -> bool:
    return fs_type in NETWORK_FS_TYPES or fs_type.startswith(("nfs", "smb", "cifs"))


def read_mounts() -> str:
    try:
        return Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
