"""The ``woa`` command line.

Each command group is a module of ``woa.commands`` with ``register(subparsers, common)``, listed
in ``COMMAND_GROUPS``. Every command takes ``--archive DIR``;
without it the archive comes from the settings (``WOA_ARCHIVE_DIR`` or ``archive_dir`` in woa.toml).
A command handler is ``func(args, settings) -> int`` (the exit status).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from core.crypto import KeyUnavailable, TamperedFile
from core.settings import Settings, load_settings
from woa.commands import (
    CommandError,
    backup,
    batch,
    documents,
    lifecycle,
    review,
    search,
    setting_overrides,
    templates,
    verify,
    watch,
    web,
)

COMMAND_GROUPS = (documents, review, search, watch, verify, batch, backup, web, lifecycle, templates)

log = logging.getLogger("woa")


def _common_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--archive", type=Path, default=None, metavar="DIR", help="archive directory")
    common.add_argument("--config", type=Path, default=None, metavar="TOML", help="settings file")
    common.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    common.add_argument("-q", "--quiet", action="store_true", help="only errors")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_parser()
    parser = argparse.ArgumentParser(
        prog="woa",
        description="Work-order archive: scans to validated PDF/A, extracted fields and search.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    for group in COMMAND_GROUPS:
        group.register(sub, common)
    return parser


def setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The one Settings of this run: defaults → TOML → ``WOA_*`` → the flags given."""
    return load_settings(config=args.config, archive_dir=args.archive, **setting_overrides(args))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.quiet)
    try:
        settings = settings_from_args(args)
    except Exception as exc:  # invalid TOML or value: one clear line
        print(f"woa: settings: {exc}", file=sys.stderr)
        return 2
    try:
        rc: int = args.func(args, settings)
    except KeyboardInterrupt:
        print("woa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except CommandError as exc:
        print(exc.line(), file=sys.stderr)
        return exc.status
    except (KeyUnavailable, TamperedFile) as exc:  # encrypted archive: no or wrong key, damaged file
        print(f"woa: {exc}", file=sys.stderr)
        return 1
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
