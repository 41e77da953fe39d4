"""Backups with restic: a consistent snapshot of the archive, its verification and its restore.

**Consistency from the commit point.** A document exists when its sidecar exists, and every file
of the archive is written by an atomic rename (a new inode), never in place. ``stage`` builds a
point-in-time copy of the archive out of *hard links* under ``<archive>/.woa-backup/stage`` (the
same filesystem: no data is copied): first the databases (SQLite online backup, or ``pg_dump``)
and the other state files, then, for every sidecar present at that moment, the sidecar and then
its original and PDF/A copy. A document whose files are not all there any more (disposed while
the stage was built) is left out whole; one committed after its sidecar was looked for is left
out whole too. restic then backs up the stage, which nothing else writes to, so ingests, corrections
and disposals running meanwhile (``woa watch``, the web app) never produce a half document in a
snapshot. Because the journal and the databases are staged before the documents, whatever they
refer to is in the snapshot. A document in the cold tier (``doc.tier``: its original and PDF
moved to object storage by the lifecycle work) is backed up as its sidecar: the tier is storage of
its own, written encrypted and verified, and ``woa verify`` reads it back.

What is backed up: everything under the archive except ``index/`` (rebuilt by ``woa reindex``),
``locks/``, ``cache/`` (fetched cold copies), this module's own ``.woa-backup/``, temp files of interrupted writes, SQLite's
``-wal``/``-shm`` side files (the online backup is a whole database) and the web app's secret key
(``db/secret_key``, a secret; a restored archive makes a new one, which only logs users out).
The settings go along as ``woa-settings.json`` without secrets (passwords in URLs, key commands).
The master key of an encrypted archive is never in the archive, so never in a backup: it is
backed up apart (docs/security.md).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from core.archive import Archive, KeyUnavailable, TamperedFile
from core.atomic import TMP_PREFIX, write_bytes_atomic
from core.settings import Settings

log = logging.getLogger(__name__)

WORK_DIR = ".woa-backup"
NOT_BACKED_UP = frozenset({"index", "locks", "cache", WORK_DIR})
DOCUMENT_DIRS = ("sidecars", "originals", "pdf")
SECRET_FILES = frozenset({"db/secret_key"})
SQLITE_SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
SQLITE_MAGIC = b"SQLite format 3\x00"
SETTINGS_FILE = "woa-settings.json"
MANIFEST_FILE = "backup-manifest.json"
PG_DUMP_FILE = "db/web.pgdump"
TAG = "woa"
# one host name whatever the machine: after a move to new hardware, backups still find their
# parent snapshot and the retention still groups them with the old ones
HOST = "woa"
SECRET_FIELDS = ("password", "secret", "token", "key_command")


class BackupError(Exception):
    """A backup, verification or restore that failed, with a one-line reason."""


@dataclass
class StageResult:
    documents: int = 0
    files: int = 0
    bytes: int = 0
    left_out: list[str] = field(default_factory=list)  # document ids not complete at staging time
    databases: list[str] = field(default_factory=list)


@dataclass
class BackupResult:
    snapshot: str
    stage: StageResult
    seconds: float
    data_added: int
    files_new: int
    files_changed: int
    forgot: bool


@dataclass
class VerifyResult:
    subset: str
    documents: int
    files: int
    bytes: int
    problems: list[str]
    seconds: float


# -- restic ---------------------------------------------------------------------------------------
@dataclass
class Restic:
    repository: str
    password_file: Path | None = None
    binary: str = "restic"

    @classmethod
    def from_settings(cls, settings: Settings) -> Restic:
        if not settings.backup_repository:
            raise BackupError("no backup repository configured (set backup_repository: a path, sftp:… or s3:…)")
        pw = Path(settings.backup_password_file).expanduser() if settings.backup_password_file else None
        if pw is None and not (os.environ.get("RESTIC_PASSWORD") or os.environ.get("RESTIC_PASSWORD_FILE")):
            raise BackupError("no restic repository password: set backup_password_file (or $RESTIC_PASSWORD)")
        if pw is not None and not pw.is_file():
            raise BackupError(f"restic password file {pw}: not found")
        return cls(settings.backup_repository, pw)

    def local_free(self) -> int | None:
        """Free bytes on a local repository's disk (None: a remote one, sftp:, s3:, rest: …)."""
        if re.match(r"^[a-z0-9]+:", self.repository):
            return None
        p = Path(self.repository).expanduser()
        while not p.exists() and p != p.parent:
            p = p.parent
        try:
            return shutil.disk_usage(p).free
        except OSError:
            return None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["RESTIC_REPOSITORY"] = self.repository
        if self.password_file is not None:
            env["RESTIC_PASSWORD_FILE"] = str(self.password_file)
            env.pop("RESTIC_PASSWORD", None)
        env.setdefault("RESTIC_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"woa-restic-cache-{os.getuid()}"))
        return env

    def run(self, *args: str, cwd: Path | None = None, ok: tuple[int, ...] = (0,), timeout: float | None = None) -> str:
        """Run restic; its output. A full repository disk stops it at once: restic retries a
        write that failed for want of space (restic issues #2453, #4558; 0.14 here went on for
        over 11 minutes before it was stopped), and the space will not come back by itself."""
        cmd = [self.binary, "--no-lock", *args] if args and args[0] in ("ls", "snapshots") else [self.binary, *args]
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, text=True)
        except FileNotFoundError:
            raise BackupError(f"{self.binary}: not installed (apt-get install restic)") from None
        out: list[str] = []
        err: list[str] = []
        full = threading.Event()
        changed = [time.monotonic()]  # when restic's output last changed
        last = [""]

        def read_out() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                out.append(line)
                seen = _CLOCK.sub("", line)  # a status line that only counts the seconds is no progress
                if seen != last[0]:
                    last[0], changed[0] = seen, time.monotonic()

        def read_err() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                err.append(line)
                if NO_SPACE in line.lower():
                    full.set()

        readers = [threading.Thread(target=read_out, daemon=True), threading.Thread(target=read_err, daemon=True)]
        for t in readers:
            t.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        timed_out = False
        while proc.poll() is None:
            timed_out = deadline is not None and time.monotonic() > deadline
            if args[0] == "backup" and not full.is_set() and time.monotonic() - changed[0] > STALL_SECONDS \
                    and (free := self.local_free()) is not None and free < LOW_SPACE:
                # no progress, and the repository's disk all but full: restic 0.14 can wait on a
                # failed write with no ENOSPC line read from it (once in the suite: 8 minutes at 100 % read,
                # 9.4 MB free on a 21 MB disk)
                err.append(f"{NO_SPACE} ({free} bytes free on the repository's disk; no progress for "
                           f"{STALL_SECONDS:.0f} s)\n")
                full.set()
            if full.is_set() or timed_out:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                break
            full.wait(0.1)
        for t in readers:
            t.join(10)
        if full.is_set():
            raise BackupError(f"restic {args[0]} on {self.repository} failed: {restic_reason(''.join(err))}")
        if timed_out:
            raise BackupError(f"restic {args[0]}: no answer from {self.repository} within {timeout:.0f} s")
        if proc.returncode not in ok:
            reason = restic_reason("".join(err))
            if NO_SPACE not in reason.lower() and (free := self.local_free()) is not None and free < PACK_SPACE:
                # restic can crash on a full disk rather than say so (a nil-pointer panic after
                # ENOSPC, once in the suite): the disk is what the admin must hear about
                reason = f"{NO_SPACE} ({free} bytes free on the repository's disk; restic said: {reason})"
            raise BackupError(f"restic {args[0]} on {self.repository} failed: {reason}")
        return "".join(out)

    def snapshots(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads(self.run("snapshots", "--json", "--tag", TAG, timeout=600) or "[]")
        return data


NO_SPACE = "no space left on device"
# restic making no progress for this long while its local repository's disk has less than
# LOW_SPACE free (under a pack or two) is a full disk: stopped, as at the first ENOSPC it reports
STALL_SECONDS = 30.0
LOW_SPACE = 64 * 1024 * 1024
PACK_SPACE = 16 * 1024 * 1024  # less free than one of restic's packs: no backup fits, whatever restic said
_CLOCK = re.compile(r'"seconds_(?:elapsed|remaining)":\d+,?')


def restic_reason(stderr: str) -> str:
    """The one line of restic's error output that says what went wrong."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("Fatal:"):
            return ln[len("Fatal:") :].strip()
    for marker in ("no space left", "connection refused", "no such host", "permission denied", "error"):
        for ln in lines:
            if marker in ln.lower():
                return ln
    return lines[-1] if lines else "unknown error"


# -- the stage ------------------------------------------------------------------------------------
def _link_or_copy(src: Path, dest: Path) -> int:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except FileNotFoundError:
        raise
    except OSError:
        shutil.copy2(src, dest)
    return dest.stat().st_size


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def sqlite_online_backup(src: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite database (``sqlite3.Connection.backup``)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        dest.unlink()
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _pg_dump(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dest}", url],
                              capture_output=True, text=True, timeout=3600, check=False)
    except FileNotFoundError:
        raise BackupError("pg_dump: not installed (apt-get install postgresql-client)") from None
    if proc.returncode != 0:
        raise BackupError(f"pg_dump failed: {restic_reason(proc.stderr)}")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def settings_without_secrets(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in settings.model_dump(mode="json").items():
        if any(s in name for s in SECRET_FIELDS):
            out[name] = "***" if value else value
        elif isinstance(value, str) and "://" in value:
            out[name] = _without_password(value)
        else:
            out[name] = value
    return out


def _other_state(root: Path) -> list[Path]:
    """Archive files that are neither a document's nor excluded (journal, databases, lifecycle…)."""
    found: list[Path] = []
    for top in sorted(root.iterdir()):
        if top.name in NOT_BACKED_UP or top.name in DOCUMENT_DIRS:
            continue
        candidates = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else []
        for p in candidates:
            rel = p.relative_to(root).as_posix()
            if p.name.startswith(TMP_PREFIX) or rel in SECRET_FILES or p.name.endswith(SQLITE_SIDE_SUFFIXES):
                continue
            if p.suffix == ".lock":
                continue
            found.append(p)
    return found


def _database_url(settings: Settings) -> str:
    return str(getattr(settings, "database_url", "") or "")


def stage(archive: Archive, settings: Settings, dest: Path) -> StageResult:
    """Build the point-in-time copy of the archive in ``dest`` (see the module docstring)."""
    root = archive.root
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    res = StageResult()
    # 1. state first: what it refers to is committed before, so it is in the stage too
    for p in _other_state(root):
        rel = p.relative_to(root).as_posix()
        try:
            if _is_sqlite(p):
                sqlite_online_backup(p, dest / rel)
                res.databases.append(rel)
                res.bytes += (dest / rel).stat().st_size
            else:
                res.bytes += _link_or_copy(p, dest / rel)
            res.files += 1
        except FileNotFoundError:
            continue  # removed meanwhile
        except sqlite3.Error as exc:
            raise BackupError(f"{rel}: SQLite backup failed: {exc}") from None
    url = _database_url(settings)
    if url.startswith(("postgres://", "postgresql://")):
        _pg_dump(url, dest / PG_DUMP_FILE)
        res.databases.append(PG_DUMP_FILE)
        res.files += 1
    write_bytes_atomic(dest / SETTINGS_FILE, json.dumps(settings_without_secrets(settings), indent=1).encode())
    # 2. documents, from their commit point
    staged_archive = Archive(dest, keys=archive.keys)
    for doc_id in archive.ids():
        shard = doc_id[:2]
        sidecar = root / "sidecars" / shard / f"{doc_id}.json"
        staged: list[Path] = []
        try:
            staged_bytes = _link_or_copy(sidecar, dest / "sidecars" / shard / sidecar.name)
            staged.append(dest / "sidecars" / shard / sidecar.name)
            files = {
                "pdf": [root / "pdf" / shard / f"{doc_id}.pdf"],
                "original": [p for p in (root / "originals" / shard).glob(f"{doc_id}.*") if not p.name.startswith(TMP_PREFIX)],
            }
            for kind, paths in files.items():
                try:
                    if not paths:
                        raise FileNotFoundError(kind)
                    for p in paths:
                        target = dest / p.relative_to(root)
                        staged_bytes += _link_or_copy(p, target)
                        staged.append(target)
                except FileNotFoundError:
                    if not _is_cold(staged_archive, doc_id, kind):
                        raise
        except FileNotFoundError:
            for p in staged:
                p.unlink(missing_ok=True)
            res.left_out.append(doc_id)
            continue
        res.documents += 1
        res.files += len(staged)
        res.bytes += staged_bytes
    manifest = {
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "archive": str(root),
        "documents": res.documents,
        "files": res.files,
        "left_out_incomplete": res.left_out,
        "databases": res.databases,
        "encrypted_at_rest": archive.encryption_key_id() is not None,
    }
    write_bytes_atomic(dest / MANIFEST_FILE, json.dumps(manifest, indent=1).encode())
    return res


def _is_cold(staged: Archive, doc_id: str, kind: str) -> bool:
    """Whether the staged sidecar says this file of the document lives in the cold tier."""
    try:
        doc = staged.load(doc_id)
    except (KeyUnavailable, TamperedFile) as exc:
        raise BackupError(f"sidecar of {doc_id}: {exc}") from None
    except (OSError, ValueError, KeyError):
        return False
    return bool(doc.tier) and kind in doc.tier.get("keys", {})


def work_dir(archive: Archive) -> Path:
    return archive.root / WORK_DIR


def init_repository(settings: Settings) -> str:
    restic = Restic.from_settings(settings)
    return restic.run("init", timeout=600).strip().splitlines()[0]


def backup(archive: Archive, settings: Settings, *, forget: bool = True) -> BackupResult:
    """Stage, back up the stage with restic, then apply the retention (forget + prune)."""
    restic = Restic.from_settings(settings)
    if not archive.root.is_dir():
        raise BackupError(f"no archive at {archive.root}")
    t0 = time.perf_counter()
    stage_dir = work_dir(archive) / "stage"
    try:
        staged = stage(archive, settings, stage_dir)
        out = restic.run(
            "backup", ".", "--json", "--tag", TAG, "--host", HOST, "--ignore-ctime",
            cwd=stage_dir,
        )
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)  # the links would keep disposed files alive
    summary: dict[str, Any] = {}
    for line in out.splitlines():
        with contextlib.suppress(ValueError):
            msg = json.loads(line)
            if isinstance(msg, dict) and msg.get("message_type") == "summary":
                summary = msg
    if not summary.get("snapshot_id"):
        raise BackupError(f"restic backup on {restic.repository} reported no snapshot")
    forgot = False
    keep = (settings.backup_keep_last, settings.backup_keep_daily, settings.backup_keep_weekly, settings.backup_keep_monthly)
    if forget and any(keep):
        restic.run(
            "forget", "--tag", TAG, "--prune",
            "--keep-last", str(settings.backup_keep_last),
            "--keep-daily", str(settings.backup_keep_daily),
            "--keep-weekly", str(settings.backup_keep_weekly),
            "--keep-monthly", str(settings.backup_keep_monthly),
        )
        forgot = True
    return BackupResult(
        snapshot=str(summary["snapshot_id"]),
        stage=staged,
        seconds=time.perf_counter() - t0,
        data_added=int(summary.get("data_added", 0)),
        files_new=int(summary.get("files_new", 0)),
        files_changed=int(summary.get("files_changed", 0)),
        forgot=forgot,
    )


# -- verification ---------------------------------------------------------------------------------
def _next_subset(archive: Archive, n: int) -> int:
    state_path = work_dir(archive) / "verify-state.json"
    k = 1
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        k = int(json.loads(state_path.read_text())["next_subset"])
    k = (k - 1) % n + 1
    state_path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(state_path, json.dumps({"next_subset": k % n + 1}).encode())
    return k


def snapshot_sidecars(restic: Restic, snapshot: str) -> list[str]:
    """Archive-relative paths of the sidecars in a snapshot."""
    out = restic.run("ls", snapshot, "--json", timeout=3600)
    rels = []
    for line in out.splitlines():
        with contextlib.suppress(ValueError):
            node = json.loads(line)
            path = str(node.get("path", "")) if isinstance(node, dict) else ""
            if node.get("type") == "file" and path.startswith("/sidecars/") and path.endswith(".json"):
                rels.append(path.lstrip("/"))
    return rels


def check_restored(restored: Archive, ids: list[str]) -> tuple[int, int, list[str]]:
    """Compare each restored document's original and PDF byte for byte with its sidecar's SHA-256."""
    files = 0
    nbytes = 0
    problems: list[str] = []
    for doc_id in ids:
        try:
            doc = restored.load(doc_id)
        except (OSError, ValueError, KeyError, KeyUnavailable, TamperedFile) as exc:
            problems.append(f"{doc_id}: sidecar not restorable: {exc}")
            continue
        for rel, expected in ((doc.original, doc.sha256), (doc.archive_pdf, doc.archive_sha256)):
            if doc.tier and not restored.abs(rel).exists():
                continue  # in the cold tier (app/lifecycle): its copies are checked there by `woa verify`
            try:
                actual = restored.sha256(rel)
            except (OSError, KeyUnavailable, TamperedFile) as exc:
                problems.append(f"{doc_id}: {rel}: not restorable: {exc}")
                continue
            files += 1
            nbytes += restored.abs(rel).stat().st_size
            if actual != expected:
                problems.append(f"{doc_id}: {rel}: restored sha256 {actual} differs from the sidecar's {expected}")
    return files, nbytes, problems


def verify_backup(archive: Archive, settings: Settings, *, sample: int | None = None,
                  snapshot: str = "latest", seed: int | None = None) -> VerifyResult:
    """``restic check`` with the next 1/N of the data read, then a real restore of a random sample."""
    restic = Restic.from_settings(settings)
    t0 = time.perf_counter()
    n = max(1, settings.backup_verify_subsets)
    k = _next_subset(archive, n)
    subset = f"{k}/{n}"
    restic.run("check", f"--read-data-subset={subset}", timeout=24 * 3600)
    sidecars = snapshot_sidecars(restic, snapshot)
    size = settings.backup_verify_sample if sample is None else sample
    picked = random.Random(seed).sample(sidecars, min(size, len(sidecars)))
    ids = [Path(p).stem for p in picked]
    with tempfile.TemporaryDirectory(prefix="woa-backup-verify-") as tmp:
        scratch = Path(tmp)
        if ids:
            includes: list[str] = []
            for doc_id in ids:
                shard = doc_id[:2]
                includes += ["--include", f"/sidecars/{shard}/{doc_id}.json", "--include", f"/pdf/{shard}/{doc_id}.pdf",
                             "--include", f"/originals/{shard}/{doc_id}.*"]
            restic.run("restore", snapshot, "--target", str(scratch), *includes, timeout=24 * 3600)
        restored = Archive(scratch, keys=archive.keys)
        files, nbytes, problems = check_restored(restored, ids)
    return VerifyResult(subset, len(ids), files, nbytes, problems, time.perf_counter() - t0)


# -- restore --------------------------------------------------------------------------------------
def restore(settings: Settings, snapshot: str, target: Path) -> Path:
    """Restore a whole archive from a snapshot into ``target`` (which must be empty or absent)."""
    restic = Restic.from_settings(settings)
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target}: not an empty folder; restore refuses to mix archives")
    target.mkdir(parents=True, exist_ok=True)
    try:
        restic.run("restore", snapshot, "--target", str(target), timeout=24 * 3600)
    except BackupError:
        with contextlib.suppress(OSError):
            if not any(target.iterdir()):
                target.rmdir()
        raise
    return target
