"""Core commands: ``woa ingest``, ``woa export``, ``woa show``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app import jtt1132
from app.ingest import IngestResult, ingest_file
from batch.walk import iter_scans
from core.archive import Archive, UnknownDocument
from core.errors import SidecarError
from core.models import Document
from core.plugins import ocr_engine_names
from core.settings import Settings
from woa.commands import setting_flag

PROGRESS_MIN_FILES = 4


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ingest", parents=[common], help="archive scanned files or folders")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    setting_flag(p, "--engine", field="ocr_engine", choices=ocr_engine_names(), help="OCR engine")
    setting_flag(p, "--pdfa", field="pdfa_level", choices=("1b", "2b"), help="PDF/A level of the archive copy")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    setting_flag(p, "--store", field="default_store", metavar="CODE",
                 help="store (门店) the documents belong to (default: the default_store setting)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("export", parents=[common], help="export archived documents")
    p.add_argument("--format", choices=("jsonl", "jtt1132"), default="jsonl",
                   help="jsonl: the sidecar's fields; jtt1132: one record per work order with the JT/T 1132 "
                        "data elements (汽车维修电子健康档案) and what is missing")
    p.add_argument("--pages", action="store_true", help="include per-page lines and boxes")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("show", parents=[common], help="show one archived document")
    p.add_argument("id", metavar="ID", help="document id (or a unique prefix)")
    p.add_argument("--json", action="store_true", help="the whole sidecar as JSON")
    p.add_argument("--text", action="store_true", help="print the OCR text too")
    p.add_argument("--open", choices=("pdf", "original"), nargs="?", const="pdf", default=None,
                   help="print a local path of the PDF (or original), fetched from the cold tier if needed")
    p.set_defaults(func=cmd_show)


def collect_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files to ingest (folders walked, hidden and non-scan files skipped) and problems found."""
    files: list[Path] = []
    problems: list[str] = []
    for p in paths:
        if p.is_dir():
            files.extend(iter_scans([p]))
        elif p.exists():
            files.append(p)
        else:
            problems.append(f"{p}: no such file or folder")
    return files, problems


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    files, problems = collect_files(args.paths)
    for msg in problems:
        print(f"woa: {msg}", file=sys.stderr)
    archive = Archive.from_settings(settings)
    counts = {"archived": 0, "duplicate": 0, "failed": 0}
    show_bar = len(files) >= PROGRESS_MIN_FILES and not args.no_progress and not args.quiet
    bar = None
    if show_bar:
        from tqdm import tqdm

        bar = tqdm(total=len(files), unit="file", desc="ingest", file=sys.stderr, dynamic_ncols=True)
    for f in files:
        res = ingest_file(f, settings, archive=archive)
        counts[res.status] += 1
        _report(res, bar, args.quiet)
        if bar is not None:
            bar.set_postfix(archived=counts["archived"], dup=counts["duplicate"], failed=counts["failed"])
            bar.update(1)
    if bar is not None:
        bar.close()
    if not args.quiet:
        print(
            f"{counts['archived']} archived, {counts['duplicate']} duplicate, {counts['failed']} failed"
            f" -> {settings.archive_dir}",
            file=sys.stderr,
        )
    return 1 if counts["failed"] or problems else 0


def _report(res: IngestResult, bar: Any, quiet: bool) -> None:
    if res.status == "failed":
        line = f"woa: {res.path}: {res.error}"
    elif quiet:
        return
    elif res.status == "duplicate":
        line = f"{res.path}: duplicate of {res.doc_id}"
    else:
        review = "  needs review" if res.needs_review else ""
        line = f"{res.path}: archived as {res.doc_id} ({res.pages} page{'s' * (res.pages != 1)}, {res.seconds:.1f} s){review}"
    stream = sys.stderr if res.status == "failed" else sys.stdout
    if bar is not None:
        bar.write(line, file=stream)
    else:
        print(line, file=stream)


def export_record(doc: Document, archive: Archive, with_pages: bool = False) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": doc.id,
        "source_name": doc.source_name,
        "sha256": doc.sha256,
        "pages": len(doc.pages),
        "original": str(archive.abs(doc.original)),
        "archive_pdf": str(archive.abs(doc.archive_pdf)),
        "archive_sha256": doc.archive_sha256,
        "ingested_at": doc.ingested_at,
        "ocr_engine": doc.ocr_engine,
        "fields": {k: v.to_dict() for k, v in doc.fields.items()},
        "items": doc.items,
        "confidence": round(doc.confidence, 3),
        "needs_review": doc.needs_review,
        "tags": doc.tags,
        "store": doc.store,
        "doc_type": doc.doc_type,
        "doc_fields": {k: v.to_dict() for k, v in doc.doc_fields.items()},
        "retain_until": doc.retain_until,
        "retention_rule": doc.retention_rule,
        "hold": doc.hold,
        "tier": doc.tier.get("where") if doc.tier else "hot",
        "text": doc.text,
    }
    if with_pages:
        rec["page_text"] = [p.to_dict() for p in doc.pages]
    return rec


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    archive = Archive.from_settings(settings)
    if not archive.root.is_dir():
        print(f"woa: no archive at {archive.root}", file=sys.stderr)
        return 1
    n = 0
    damaged: list[str] = []
    for doc in archive.documents(damaged):
        if args.format == "jtt1132":
            if doc.doc_type not in ("", "work_order"):
                continue  # invoices, receipts and other papers are no repair records
            rec = jtt1132.record(doc, settings.review_threshold)
        else:
            rec = export_record(doc, archive, args.pages)
        sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
        n += 1
    if not args.quiet or damaged:
        print(f"{n} documents exported" + (f"; {len(damaged)} damaged sidecar(s) left out (see 'woa verify')"
                                           if damaged else ""), file=sys.stderr)
    return 1 if damaged else 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    archive = Archive.from_settings(settings)
    try:
        doc_id = archive.resolve(args.id)
    except UnknownDocument as exc:
        print(f"woa: {exc.args[0]}", file=sys.stderr)
        return 1
    try:
        if args.json:
            sys.stdout.write(json.dumps(archive.load_raw(doc_id), ensure_ascii=False, indent=1) + "\n")
            return 0
        doc = archive.load(doc_id)
    except (SidecarError, OSError) as exc:
        print(f"woa: {exc} (see 'woa verify --repair')", file=sys.stderr)
        return 1
    if args.open:
        from app.lifecycle.tier import TierError, context, fetch

        try:
            path = fetch(archive, doc, args.open, context(settings) if doc.tier else None)
        except TierError as exc:
            print(f"woa: {exc}", file=sys.stderr)
            return 1
        print(path)
        return 0
    out = [
        f"id            {doc.id}",
        f"source        {doc.source_name}",
        f"ingested      {doc.ingested_at}",
        f"pages         {len(doc.pages)}  (OCR: {doc.ocr_engine} {doc.ocr_version})",
        f"original      {archive.abs(doc.original)}",
        f"archive PDF   {archive.abs(doc.archive_pdf)}  (PDF/A-{doc.pdfa_level})",
        f"sha256        {doc.sha256}",
        f"review        {'NEEDS REVIEW' if doc.needs_review else 'ok'}  (confidence {doc.confidence:.2f})",
    ]
    out.append(f"retain until  {doc.retain_until or '-'}  (rule {doc.retention_rule or '-'})")
    if doc.hold:
        out.append(f"legal hold    since {doc.hold.get('at')} by {doc.hold.get('by')}: {doc.hold.get('reason')}")
    if doc.tier:
        out.append(f"storage       cold: {doc.tier.get('where')} (moved {doc.tier.get('moved_at')}; "
                   "'woa show --open' fetches it)")
    if doc.store:
        out.append(f"store         {doc.store}")
    if doc.doc_type:
        out.append(f"type          {doc.doc_type.replace('_', ' ')}")
        for name, fv in doc.doc_fields.items():
            out.append(f"  {name:14} {fv.value if fv.value is not None else '-':<22} {fv.confidence:.2f}")
    if doc.tags:
        out.append("tags          " + ", ".join(f"{k}={v}" for k, v in doc.tags.items()))
    if doc.duplicates:
        out.append("also seen as  " + ", ".join(d["source_name"] for d in doc.duplicates))
    if doc.fields:
        out.append("fields:")
        for name, fv in doc.fields.items():
            flag = "" if fv.confidence >= settings.review_threshold else "   <- check"
            out.append(f"  {name:14} {fv.value if fv.value is not None else '-':<22} {fv.confidence:.2f}{flag}")
    for item in doc.items:
        out.append(f"  item: {item.get('name', '')}  x{item.get('quantity', '')}  {item.get('amount', '')}")
    if args.text:
        out.append("text:")
        out.append(doc.text)
    print("\n".join(out))
    return 0
