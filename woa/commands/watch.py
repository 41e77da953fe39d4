"""``woa watch`` and ``woa status``."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from core.settings import Settings
from watch_folder.journal import JOURNAL_NAME, Journal
from watch_folder.rules import Folders, LayoutError, default_folders
from watch_folder.service import AlreadyRunning, ArchiveLock, WatchService
from woa.commands import CommandError, setting_flag


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "watch",
        parents=[common],
        help="watch an inbox folder and archive every complete scan dropped into it",
        description="Watch INBOX (recursively; the first subfolder level becomes the dealer tag) and archive "
        "every file once it is complete. failed/ and processed/ sit beside the inbox unless given.",
    )
    p.add_argument("inbox", type=Path, metavar="INBOX")
    setting_flag(p, "--poll", field="poll_seconds", type=float, metavar="SECONDS", help="poll instead of native events")
    p.add_argument("--oneshot", action="store_true", help="process what is in the inbox now, then exit")
    setting_flag(p, "--workers", field="workers", type=int, metavar="N", help="worker processes (default: cores)")
    setting_flag(p, "--stable", field="stable_seconds", type=float, metavar="SECONDS", help="size/mtime quiet time")
    setting_flag(p, "--rescan", field="rescan_seconds", type=float, metavar="SECONDS", help="full rescan interval")
    setting_flag(p, "--after-success", field="after_success", choices=("move", "delete"), help="what to do with a done file")
    setting_flag(p, "--timeout", field="file_timeout_seconds", type=float, metavar="SECONDS",
                 help="give up on one file after this long in a worker (a transient failure; default 1800)")
    p.add_argument("--failed", type=Path, default=None, metavar="DIR", help="where failed files go")
    p.add_argument("--processed", type=Path, default=None, metavar="DIR", help="where done files go (move)")
    p.set_defaults(func=watch_command)

    s = subparsers.add_parser("status", parents=[common], help="state of the watched inbox queue")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--failed", type=int, nargs="?", const=20, default=0, metavar="N",
                   help="also list the last N failed files with their reasons (default 20)")
    s.set_defaults(func=status_command)


def _folders(args: argparse.Namespace, settings: Settings) -> Folders:
    folders = default_folders(args.inbox, settings.archive_dir)
    return Folders(
        inbox=folders.inbox,
        archive=folders.archive,
        failed=args.failed.resolve() if args.failed else folders.failed,
        processed=args.processed.resolve() if args.processed else folders.processed,
    )


def _service_logging(args: argparse.Namespace) -> None:
    """A service logs its events by default (key=value lines on stderr, e.g. into the systemd journal)."""
    if not args.quiet and not args.verbose:
        logging.getLogger("watch_folder").setLevel(logging.INFO)


def watch_command(args: argparse.Namespace, settings: Settings) -> int:
    _service_logging(args)
    service = WatchService(_folders(args, settings), settings, oneshot=args.oneshot)

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        service.request_stop()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        return service.run()
    except LayoutError as exc:
        raise CommandError(f"refusing to start: {exc}", 2, "watch") from exc
    except AlreadyRunning as exc:
        raise CommandError(exc, 3, "watch") from exc


def _fmt_time(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds") if ts else "-"


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    archive = Path(settings.archive_dir)
    path = archive / JOURNAL_NAME
    if not path.is_file():
        print(f"woa status: no watch journal in {archive} (woa watch has not run there)", file=sys.stderr)
        return 1
    with Journal(path, readonly=True) as journal:
        summary = journal.summary()
        failed = journal.rows("failed")[-args.failed :] if args.failed else []
    running = ArchiveLock.held(archive)
    data: dict[str, Any] = {"archive": str(archive), "running": running, **summary.to_dict()}
    if args.failed:
        data["failed_files"] = [
            {"path": r.path, "error": r.error, "moved_to": r.dest, "at": _fmt_time(r.finished_at)} for r in failed
        ]
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(f"archive      {archive}")
    print(f"service      {'running' if running else 'not running'}")
    print(f"queued       {summary.queued} ({summary.waiting_retry} waiting to retry)")
    print(f"in flight    {summary.processing}{'' if running or not summary.processing else ' (interrupted; resumes on start)'}")
    print(f"done         {summary.done} ({summary.archived} archived, {summary.duplicates} duplicates)")
    print(f"failed       {summary.failed}")
    if summary.gone:
        print(f"vanished     {summary.gone}")
    last = summary.last_error
    if last:
        print(f"last error   {_fmt_time(last['updated_at'])} {last['path']}: {last['error']}")
    else:
        print("last error   -")
    for r in failed:
        print(f"  failed {_fmt_time(r.finished_at)} {r.path}: {r.error}")
    return 0
