"""``woa review list|set`` and ``woa reprocess``: the clerk's side of extraction."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from typing import Any

from app.documents import ReviewError, correct_field, needing_review, reprocess
from core.archive import UnknownDocument
from core.errors import SidecarError
from core.models import CANONICAL_FIELDS
from core.settings import Settings
from woa.commands import CommandError, action_group, fails_with, open_archive

log = logging.getLogger(__name__)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    # the common options go on the leaf parsers only: a sub-subparser's defaults would overwrite
    # options given before the action (woa review --archive X list)
    rsub = action_group(sub, "review", "documents with doubtful fields; correct a field")
    p = rsub.add_parser("list", parents=[common], help="documents that need review and their doubtful fields")
    p.add_argument("--json", action="store_true", help="one JSON object per document")
    p.set_defaults(func=cmd_review_list)
    p = rsub.add_parser("set", parents=[common], help="correct one field of a document")
    p.add_argument("id", metavar="ID", help="document id (or a unique prefix)")
    p.add_argument("field", metavar="FIELD", choices=CANONICAL_FIELDS, help=", ".join(CANONICAL_FIELDS))
    p.add_argument("value", metavar="VALUE")
    p.set_defaults(func=cmd_review_set)

    p = sub.add_parser("reprocess", parents=[common], help="re-run field extraction on archived documents (no OCR)")
    p.add_argument("ids", nargs="*", metavar="ID", help="document ids or prefixes (default: all)")
    p.set_defaults(func=cmd_reprocess)


def cmd_review_list(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    n = 0
    damaged: list[str] = []
    for rec in needing_review(archive, settings.review_threshold, damaged):
        n += 1
        if args.json:
            sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
            continue
        print(f"{rec['id']}  {rec['source_name']}")
        if not rec["doubtful"]:
            print("    (no fields found)")
        for name, d in rec["doubtful"].items():
            value = d["value"] if d["value"] is not None else "-"
            note = f"  {d['note']}" if d["note"] else ""
            shown = math.floor(d["confidence"] * 100) / 100  # 0.799 is under 0.80: do not print it as 0.80
            print(f"    {name:14} {value:<22} {shown:.2f}{note}")
    if not args.json and not args.quiet:
        print(f"{n} document{'s' * (n != 1)} need review"
              + (f"; {len(damaged)} damaged sidecar(s) skipped (see 'woa verify')" if damaged else ""), file=sys.stderr)
    return 1 if damaged else 0


def cmd_review_set(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    try:
        correction = correct_field(archive, args.id, args.field, args.value, settings)
    except UnknownDocument as exc:
        raise CommandError(exc) from exc
    except SidecarError as exc:
        raise CommandError(f"{exc} (see 'woa verify --repair')") from exc
    except ReviewError as exc:
        raise CommandError(f"{args.field}: {exc}", 2) from exc
    doc, entry, fv = correction.doc, correction.entry, correction.value
    if not fv.valid:
        print(f"woa: warning: {args.field} {fv.value!r} {fv.note.removeprefix('corrected in review; ')}", file=sys.stderr)
    if not args.quiet:
        state = "still needs review" if doc.needs_review else "review complete"
        print(f"{doc.id}: {args.field} {entry['old']!r} -> {entry['new']!r} ({state})")
    return 0


def cmd_reprocess(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    with fails_with(UnknownDocument):
        result = reprocess(archive, args.ids, settings)
    for doc_id, reason in result.failed:
        print(f"woa: {doc_id}: {reason}", file=sys.stderr)
    done, failed = result.done, len(result.failed)
    if not args.quiet:
        review = sum(d.needs_review for d in done)
        print(f"reprocessed {len(done)} document{'s' * (len(done) != 1)}; {review} need review"
              + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0
