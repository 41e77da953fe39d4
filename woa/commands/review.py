"""``woa review list|set`` and ``woa reprocess``: the clerk's side of extraction."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from typing import Any

from app.lifecycle.retention import apply_retention
from core.archive import Archive, UnknownDocument
from core.models import CANONICAL_FIELDS, Document
from core.settings import Settings
from extractors.engine import extract
from extractors.review import ReviewError, apply_corrections, doubtful_fields, set_field

log = logging.getLogger(__name__)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    # the common options go on the leaf parsers only: a sub-subparser's defaults would overwrite
    # options given before the action (woa review --archive X list)
    review = sub.add_parser("review", help="documents with doubtful fields; correct a field")
    rsub = review.add_subparsers(dest="review_command", metavar="ACTION")
    rsub.required = True
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


def _archive(settings: Settings) -> Archive | None:
    archive = Archive(settings.archive_dir)
    if not (archive.root / "sidecars").is_dir():
        print(f"woa: no archive at {archive.root}", file=sys.stderr)
        return None
    return archive


def update_index(archive: Archive, docs: list[Document]) -> None:
    """Keep the search index in step; the sidecar is the truth, so a failure is only logged."""
    try:
        import index

        index.update_index(archive, docs)
    except (ImportError, AttributeError) as exc:
        log.warning("search index not updated (%s); run 'woa reindex'", exc)
    except Exception:
        log.exception("search index update failed; run 'woa reindex'")


def review_record(doc: Document, threshold: float) -> dict[str, Any]:
    return {
        "id": doc.id,
        "source_name": doc.source_name,
        "confidence": round(doc.confidence, 3),
        "doubtful": {k: {"value": v.value, "confidence": round(v.confidence, 3), "note": v.note, "page": v.page}
                     for k, v in doubtful_fields(doc, threshold).items()},
    }


def cmd_review_list(args: argparse.Namespace, settings: Settings) -> int:
    archive = _archive(settings)
    if archive is None:
        return 1
    n = 0
    for doc in archive.documents():
        if not doc.needs_review:
            continue
        n += 1
        rec = review_record(doc, settings.review_threshold)
        if args.json:
            sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
            continue
        print(f"{doc.id}  {doc.source_name}")
        if not rec["doubtful"]:
            print("    (no fields found)")
        for name, d in rec["doubtful"].items():
            value = d["value"] if d["value"] is not None else "-"
            note = f"  {d['note']}" if d["note"] else ""
            shown = math.floor(d["confidence"] * 100) / 100  # 0.799 is under 0.80: do not print it as 0.80
            print(f"    {name:14} {value:<22} {shown:.2f}{note}")
    if not args.json and not args.quiet:
        print(f"{n} document{'s' * (n != 1)} need review", file=sys.stderr)
    return 0


def cmd_review_set(args: argparse.Namespace, settings: Settings) -> int:
    archive = _archive(settings)
    if archive is None:
        return 1
    try:
        doc_id = archive.resolve(args.id)
        with archive.lock(doc_id):
            doc = archive.load(doc_id)
            entry = set_field(doc, args.field, args.value, settings.reviewer, settings.review_threshold)
            apply_retention(doc, settings)  # a corrected date_out moves retain_until
            archive.save(doc)
    except UnknownDocument as exc:
        print(f"woa: {exc.args[0]}", file=sys.stderr)
        return 1
    except ReviewError as exc:
        print(f"woa: {args.field}: {exc}", file=sys.stderr)
        return 2
    update_index(archive, [doc])
    fv = doc.fields[args.field]
    if not fv.valid:
        print(f"woa: warning: {args.field} {fv.value!r} {fv.note.removeprefix('corrected in review; ')}", file=sys.stderr)
    if not args.quiet:
        state = "still needs review" if doc.needs_review else "review complete"
        print(f"{doc.id}: {args.field} {entry['old']!r} -> {entry['new']!r} ({state})")
    return 0


def reprocess_document(doc: Document, settings: Settings) -> None:
    """Extract again from the stored pages (no OCR) and re-apply review corrections."""
    result = extract(doc.pages, settings)
    doc.fields, doc.items = result.fields, result.items
    doc.confidence, doc.needs_review = result.confidence, result.needs_review
    apply_corrections(doc, settings.review_threshold)
    apply_retention(doc, settings)


def cmd_reprocess(args: argparse.Namespace, settings: Settings) -> int:
    archive = _archive(settings)
    if archive is None:
        return 1
    try:
        ids = [archive.resolve(i) for i in args.ids] if args.ids else list(archive.ids())
    except UnknownDocument as exc:
        print(f"woa: {exc.args[0]}", file=sys.stderr)
        return 1
    done: list[Document] = []
    failed = 0
    for doc_id in ids:
        try:
            with archive.lock(doc_id):
                doc = archive.load(doc_id)
                reprocess_document(doc, settings)
                archive.save(doc)
            done.append(doc)
        except (OSError, ValueError, KeyError) as exc:
            failed += 1
            print(f"woa: {doc_id}: {exc}", file=sys.stderr)
    if done:
        update_index(archive, done)
    if not args.quiet:
        review = sum(d.needs_review for d in done)
        print(f"reprocessed {len(done)} document{'s' * (len(done) != 1)}; {review} need review"
              + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0
