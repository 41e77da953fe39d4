"""The ``woa`` command groups, one module each (``register(subparsers, common)``).

A flag that changes a setting is declared with ``setting_flag``: its value reaches the command
as a field of the one ``Settings`` (``load_settings(**overrides)``: flags beat ``WOA_*`` beat
the TOML file beat the defaults), never by changing the settings object afterwards.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.archive import Archive
from core.settings import Settings

SETTING_PREFIX = "setting:"


def setting_flag(parser: argparse.ArgumentParser, *flags: str, field: str, **kwargs: Any) -> None:
    """A flag that overrides the setting ``field`` (absent: the setting's own value)."""
    if kwargs.get("action") == "store_true":
        kwargs["action"], kwargs["const"] = "store_const", True
    parser.add_argument(*flags, dest=SETTING_PREFIX + field, default=None, **kwargs)


def setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line (``None``: not given)."""
    return {k.removeprefix(SETTING_PREFIX): v for k, v in vars(args).items() if k.startswith(SETTING_PREFIX)}


def open_archive(settings: Settings) -> Archive | None:
    """The settings' archive, or ``None`` after one line on stderr when there is none there."""
    archive = Archive.from_settings(settings)
    if not (archive.root / "sidecars").is_dir():
        print(f"woa: no archive at {archive.root}", file=sys.stderr)
        return None
    return archive
