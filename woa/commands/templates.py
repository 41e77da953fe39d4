"""``woa templates list`` and ``woa templates show``: the learned templates of the archive."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.templates import learned_dir, learned_templates
from core.archive import Archive
from core.settings import Settings


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("templates", help="learned templates (taught by review corrections)",
                              description="Templates learned from clerks' corrections, one per form layout "
                                          "(files in ARCHIVE/templates/learned/, see docs/templates.md).")
    sub = p.add_subparsers(dest="templates_cmd", required=True)
    q = sub.add_parser("list", parents=[common], help="every learned template: documents that taught it, fields")
    q.set_defaults(func=cmd_list)
    q = sub.add_parser("show", parents=[common], help="one learned template's file")
    q.add_argument("name", help="template name (or a unique prefix)")
    q.set_defaults(func=cmd_show)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    archive = Archive(settings.archive_dir)
    templates = learned_templates(archive)
    if not templates:
        print(f"no learned templates in {learned_dir(archive)}")
        return 0
    print(f"{'template':<20} {'documents':>9}  fields (right/wrong)")
    for t in templates:
        fields = ", ".join(f"{f} {lf.right}/{lf.wrong}" for f, lf in sorted(t.fields.items()))
        print(f"{t.name:<20} {len(t.documents):>9}  {fields}")
        if t.values:  # what its values look like, and how often that was right ([checks])
            vals = ", ".join(f"{f} {len(c)} seen" + (f" {t.checks[f][0]}/{t.checks[f][1]}" if f in t.checks else "")
                             for f, c in sorted(t.values.items()))
            print(f"{'':<20} {'':>9}  values (seen, right/wrong): {vals}")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    archive = Archive(settings.archive_dir)
    matches = [t for t in learned_templates(archive) if t.name.startswith(args.name)]
    if len(matches) != 1:
        print(f"woa: {args.name}: {'no' if not matches else 'more than one'} learned template", file=sys.stderr)
        return 1
    t = matches[0]
    assert t.path is not None
    print(f"# {t.path}")
    print(t.path.read_text(encoding="utf-8"), end="")
    return 0
