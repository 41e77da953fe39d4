"""``woa verify``: the archive on disk is exactly what its sidecars say, and the index agrees."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.lifecycle.tier import cold_check
from app.verify import verify_archive
from core.archive import Archive
from core.settings import Settings
from watch_folder.journal import check_journal
from woa.commands import setting_flag


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "verify",
        parents=[common],
        help="check hashes, PDF/A validity, sidecars, strays and the index of the archive",
    )
    setting_flag(p, "--workers", field="workers", type=int, metavar="N", help="parallel checks (default: cores)")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="read back the cold-tier copies of N random cold documents (default: all of them)")
    p.set_defaults(func=verify_command)


def verify_command(args: argparse.Namespace, settings: Settings) -> int:
    root = Path(settings.archive_dir)
    if not root.is_dir():
        print(f"woa verify: no archive at {root}", file=sys.stderr)
        return 2
    report = verify_archive(
        root, workers=settings.workers, extra_checks=[check_journal], archive=Archive.from_settings(settings),
        cold_check=cold_check(settings, args.sample),
    )
    for problem in report.problems:
        print(problem)
    verdict = "no problems" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"woa verify: {report.documents} documents checked in {root}: {verdict}", file=sys.stderr)
    return 0 if report.ok else 1
