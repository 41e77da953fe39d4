"""``woa verify``: the archive on disk is exactly what its sidecars say, and the index agrees."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.lifecycle.tier import cold_check
from app.repair import FileSource, repair_archive
from app.verify import Report, verify_archive
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
    p.add_argument("--repair", action="store_true",
                   help="repair what can be: damaged documents from a good copy of their original (the archive's "
                        "own, or SOURCE files/folders), the index, stale temp files and half-built index generations")
    p.add_argument("sources", nargs="*", type=Path, metavar="SOURCE",
                   help="with --repair: files or folders that may hold intact copies of damaged originals")
    p.set_defaults(func=verify_command)


def verify_command(args: argparse.Namespace, settings: Settings) -> int:
    root = Path(settings.archive_dir)
    if not root.is_dir():
        print(f"woa verify: no archive at {root}", file=sys.stderr)
        return 2
    if args.sources and not args.repair:
        print("woa verify: SOURCE files are for --repair", file=sys.stderr)
        return 2
    archive = Archive.from_settings(settings)

    def run() -> Report:
        return verify_archive(
            root, workers=settings.workers, extra_checks=[check_journal], archive=archive,
            cold_check=cold_check(settings, args.sample),
        )

    report = run()
    for problem in report.problems:
        print(problem)
    verdict = "no problems" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"woa verify: {report.documents} documents checked in {root}: {verdict}", file=sys.stderr)
    if not args.repair or report.ok:
        return 0 if report.ok else 1
    try:
        repaired = repair_archive(archive, settings, report.problems, [FileSource(args.sources)] if args.sources else [])
    except OSError as exc:
        print(f"woa verify: cannot repair: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""),
              file=sys.stderr)
        return 1
    for line in repaired.repaired + repaired.actions:
        print(f"repaired: {line}")
    for line in repaired.failed:
        print(f"not repaired: {line}")
    after = run()
    for problem in after.problems:
        print(f"still: {problem}")
    verdict = "no problems" if after.ok else f"{len(after.problems)} problem(s) left"
    print(f"woa verify --repair: {len(repaired.repaired)} document(s) repaired, {len(repaired.failed)} not; "
          f"{after.documents} documents checked again: {verdict}", file=sys.stderr)
    return 0 if after.ok else 1
