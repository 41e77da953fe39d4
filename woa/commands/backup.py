"""``woa backup [init|verify|snapshots]``, ``woa restore SNAPSHOT --to DIR``, ``woa encrypt``, ``woa keys``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from core.archive import Archive, KeyUnavailable, default_key_file
from core.crypto import MASTER_KEY_ENV, KeySource, key_id, new_master_key, write_key_file
from core.settings import Settings
from woa.commands import action_group


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "backup",
        parents=[common],
        help="back up the archive with restic (init, verify, snapshots: see docs/security.md)",
    )
    p.add_argument("action", nargs="?", default="run", choices=("run", "init", "verify", "snapshots"),
                   help="run (default): take a snapshot and apply the retention; init: create the repository;"
                        " verify: restic check + restore a random sample; snapshots: list them")
    p.add_argument("--no-forget", action="store_true", help="run: do not apply the retention afterwards")
    p.add_argument("--sample", type=int, default=None, metavar="N", help="verify: documents to restore (setting backup_verify_sample)")
    p.add_argument("--snapshot", default="latest", help="verify: which snapshot to sample (default latest)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", parents=[common], help="restore a whole archive from a backup snapshot")
    p.add_argument("snapshot", metavar="SNAPSHOT", help="snapshot id (see woa backup snapshots) or latest")
    p.add_argument("--to", type=Path, required=True, metavar="DIR", help="an empty or new folder")
    p.add_argument("--no-check", action="store_true", help="skip the reindex and verify after the restore")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("encrypt", parents=[common], help="encrypt an existing archive at rest (needs encrypt_at_rest)")
    p.set_defaults(func=cmd_encrypt)

    ksub = action_group(sub, "keys", "master key of an encrypted archive: init, rotate, status")
    k = ksub.add_parser("init", parents=[common], help="create a new master key file (0600)")
    k.set_defaults(func=cmd_keys_init)
    k = ksub.add_parser("rotate", parents=[common], help="re-wrap every data key under a new master key")
    k.set_defaults(func=cmd_keys_rotate)
    k = ksub.add_parser("status", parents=[common], help="where the key comes from and which key the archive uses")
    k.set_defaults(func=cmd_keys_status)


def _err(msg: str) -> int:
    print(f"woa: {msg}", file=sys.stderr)
    return 1


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from app.backup import BackupError, Restic, backup, init_repository, verify_backup

    archive = Archive.from_settings(settings)
    try:
        if args.action == "init":
            print(init_repository(settings))
            return 0
        if args.action == "snapshots":
            for snap in Restic.from_settings(settings).snapshots():
                print(f"{snap.get('short_id', '')}  {snap.get('time', '')[:19]}  {snap.get('hostname', '')}")
            return 0
        if args.action == "verify":
            v = verify_backup(archive, settings, sample=args.sample, snapshot=args.snapshot)
            for problem in v.problems:
                print(problem)
            verdict = "all match their sidecars' SHA-256" if not v.problems else f"{len(v.problems)} problem(s)"
            print(f"woa backup verify: restic check read data subset {v.subset}: ok; restored {v.documents} random"
                  f" documents ({v.files} files, {_mb(v.bytes)}): {verdict} ({v.seconds:.1f} s)", file=sys.stderr)
            return 0 if not v.problems else 1
        res = backup(archive, settings, forget=not args.no_forget)
    except (BackupError, KeyUnavailable) as exc:
        return _err(f"backup: {exc}")
    s = res.stage
    left = f"; {len(s.left_out)} document(s) being written or removed left for the next run" if s.left_out else ""
    if not args.quiet:
        print(f"snapshot {res.snapshot}: {s.documents} documents, {s.files} files, {_mb(s.bytes)}; added"
              f" {_mb(res.data_added)} to {settings.backup_repository} in {res.seconds:.1f} s{left}"
              + ("; retention applied" if res.forgot else ""))
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from app.backup import BackupError, restore
    from app.lifecycle.tier import cold_check
    from app.verify import verify_archive
    from watch_folder.journal import check_journal

    try:
        target = restore(settings, args.snapshot, args.to)
    except BackupError as exc:
        return _err(f"restore: {exc}")
    print(f"restored snapshot {args.snapshot} to {target}", file=sys.stderr)
    if (target / "db" / "web.pgdump").is_file():
        print(f"web database: pg_restore --clean --no-owner -d DATABASE_URL {target / 'db' / 'web.pgdump'}", file=sys.stderr)
    if args.no_check:
        return 0
    restored = Archive.from_settings(settings, root=target)
    try:
        import index

        n = index.rebuild_index(restored)
    except Exception as exc:
        return _err(f"restore: index rebuild failed: {type(exc).__name__}: {exc}")
    report = verify_archive(target, workers=settings.workers, extra_checks=[check_journal], archive=restored,
                            cold_check=cold_check(settings))
    for problem in report.problems:
        print(problem)
    verdict = "no problems" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"woa restore: index rebuilt ({n} documents); verify: {report.documents} documents: {verdict}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_encrypt(args: argparse.Namespace, settings: Settings) -> int:
    from app.encryption import encrypt_archive

    archive = Archive.from_settings(settings)
    if not (archive.root / "sidecars").is_dir():
        return _err(f"no archive at {archive.root}")
    try:
        res = encrypt_archive(archive)
    except KeyUnavailable as exc:
        return _err(f"encrypt: {exc}")
    for problem in res.problems:
        print(problem)
    print(f"woa encrypt: {res.documents} documents, {res.files_changed} files encrypted in {archive.root}"
          + (f"; {len(res.problems)} problem(s), run woa verify" if res.problems else ""), file=sys.stderr)
    print("the search index still holds extracted text: see docs/security.md (encrypted volume)", file=sys.stderr)
    return 0 if not res.problems else 1


def _key_file(settings: Settings) -> Path:
    return Path(settings.master_key_file).expanduser() if settings.master_key_file else default_key_file()


def cmd_keys_init(args: argparse.Namespace, settings: Settings) -> int:
    path = _key_file(settings)
    if path.exists():
        return _err(f"keys init: {path} exists; not overwritten")
    if Path(path).resolve().is_relative_to(Path(settings.archive_dir).resolve()):
        return _err(f"keys init: {path} is inside the archive; the key must live outside it")
    key = new_master_key()
    write_key_file(path, [key])
    print(f"master key {key_id(key).hex()} written to {path} (mode 0600)")
    print("back it up now, apart from the archive and its backups: without it nothing encrypted can be read")
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from app.encryption import rotate_keys

    archive = Archive.from_settings(settings)
    if archive.encryption_key_id() is None:
        return _err(f"keys rotate: {archive.root} is not encrypted")
    uses_file = not settings.master_key_command and not os.environ.get(MASTER_KEY_ENV)
    try:
        res = rotate_keys(archive, _key_file(settings) if uses_file else None)
    except KeyUnavailable as exc:
        return _err(f"keys rotate: {exc}")
    for problem in res.problems:
        print(problem)
    print(f"woa keys rotate: {res.files_rewrapped} data keys re-wrapped under master key {res.new_key_id}", file=sys.stderr)
    if res.retired_file:
        print(f"old key(s) kept in {res.retired_file}: needed to restore backups made before now; back up the new key",
              file=sys.stderr)
    return 0 if not res.problems else 1


def cmd_keys_status(args: argparse.Namespace, settings: Settings) -> int:
    archive = Archive.from_settings(settings)
    src: KeySource = archive.keys
    try:
        recorded = archive.encryption_key_id()
        ids = [key_id(k).hex() for k in src.master_keys()]
    except KeyUnavailable as exc:
        print(f"archive key: {archive.encryption_key_id() or 'not encrypted'}")
        return _err(f"keys: {exc}")
    print(f"source:      {src.describe()}")
    print(f"keys:        {', '.join(ids)} (first is current)")
    print(f"archive key: {recorded or 'not encrypted'}")
    print(f"new files:   {'encrypted' if settings.encrypt_at_rest else 'plain (encrypt_at_rest is off)'}")
    return 0 if recorded is None or recorded in ids else 1
