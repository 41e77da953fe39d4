"""The ``woa`` command groups, one module each (``register(subparsers, common)``).

A flag that changes a setting is declared with ``setting_flag``: its value reaches the command
as a field of the one ``Settings`` (``load_settings(**overrides)``: flags beat ``WOA_*`` beat
the TOML file beat the defaults), never by changing the settings object afterwards.

A command that cannot go on raises ``CommandError`` (or turns the errors it expects into one with
``fails_with``): ``woa.cli.main`` prints its one line on stderr and exits with its status.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


def action_group(sub: Any, name: str, help: str) -> Any:
    """``woa NAME ACTION …``: a command made of actions; add the actions to what it returns."""
    group = sub.add_parser(name, help=help)
    actions = group.add_subparsers(dest=f"{name}_command", metavar="ACTION")
    actions.required = True
    return actions


class CommandError(Exception):
    """What stops a command: ``woa[ COMMAND]: MESSAGE`` on stderr, and this exit status."""

    def __init__(self, message: object, status: int = 1, command: str = "") -> None:
        super().__init__(error_text(message))
        self.status = status
        self.command = command

    def line(self) -> str:
        return f"woa {self.command}: {self}" if self.command else f"woa: {self}"


def error_text(error: object) -> str:
    """An error as the user reads it (a KeyError's own text, without the quotes ``str()`` adds)."""
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    return str(error)


def complain(error: object) -> None:
    """One line on stderr for one item that failed while the command goes on with the others."""
    print(f"woa: {error_text(error)}", file=sys.stderr)


@contextmanager
def fails_with(*kinds: type[Exception], status: int = 1, command: str = "") -> Iterator[None]:
    """The errors of these kinds that the block raises stop the command (``CommandError``)."""
    try:
        yield
    except kinds as exc:
        raise CommandError(exc, status, command) from exc


def open_archive(settings: Settings) -> Archive:
    """The settings' archive; ``CommandError`` when there is none there."""
    archive = Archive.from_settings(settings)
    if not (archive.root / "sidecars").is_dir():
        raise CommandError(f"no archive at {archive.root}")
    return archive
