"""``woa search``, ``woa history``, ``woa stats`` and ``woa reindex``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from core.archive import Archive, not_an_archive
from core.settings import Settings
from index import search, stats, vehicle_history
from index.analysis import key_date
from index.query import QueryError, day_bound
from index.store import IndexUnavailable, rebuild
from woa.commands import CommandError


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("search", parents=[common], help="search the archive (see docs/search.md)",
                              description="Free text plus vin: plate: order: phone: date: total: model: customer: "
                                          "advisor: dealer: needs_review: (see docs/search.md).")
    p.add_argument("query", nargs="+", help="query words; quote phrases")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--limit", type=int, default=20, help="hits per page (default 20)")
    p.add_argument("--page", type=int, default=1, help="page number (default 1)")
    p.add_argument("--sort", choices=("relevance", "date"), default="relevance")
    p.set_defaults(func=cmd_search)

    p = subparsers.add_parser("history", parents=[common], help="every order of a vehicle, by VIN or plate")
    p.add_argument("vehicle", help="VIN, its last 6-8 characters, or a plate (粤B·D12345, BD12345)")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_history)

    p = subparsers.add_parser("stats", parents=[common], help="orders and revenue per month, top repairs and models")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (or YYYY-MM)")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (or YYYY-MM)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--top", type=int, default=10, help="how many repair items and models to list")
    p.set_defaults(func=cmd_stats)

    p = subparsers.add_parser("reindex", parents=[common], help="rebuild the search index from the sidecars")
    p.add_argument("--procs", type=int, default=None, help="indexing processes (default: CPUs, at most 4)")
    p.set_defaults(func=cmd_reindex)


# -- output helpers ---------------------------------------------------------------------------
def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - _width(text))
    return gap + text if right else text + gap


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> list[str]:
    """Rows as aligned text lines (CJK characters count double)."""
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, w, i in right) for i, (h, w) in enumerate(zip(headers, widths, strict=True))).rstrip()]
    for r in cells:
        lines.append("  ".join(_pad(c, w, i in right) for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    return lines


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


def _open(cmd: str, settings: Settings) -> Archive:
    """The archive to read; ``CommandError`` (status 2) if ``--archive`` names no archive."""
    problem = not_an_archive(settings.archive_dir)
    if problem:
        raise CommandError(problem, 2, cmd)
    return Archive.from_settings(settings)


@contextmanager
def _index_errors(cmd: str, *bad_input: type[Exception]) -> Iterator[None]:
    """What stops a command that reads the index: a query it cannot read (status 2), an index
    that cannot be opened, a file-system failure (read-only archive, disk full) — one line each."""
    try:
        yield
    except bad_input as exc:
        raise CommandError(exc, 2, cmd) from exc
    except IndexUnavailable as exc:
        raise CommandError(exc, 1, cmd) from exc
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        raise CommandError(f"{exc.strerror or exc}{where}", 1, cmd) from exc


# -- commands ---------------------------------------------------------------------------------
def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    query = " ".join(args.query)
    archive = _open("search", settings)
    with _index_errors("search", QueryError, ValueError):
        res = search(archive, query, limit=args.limit, page=args.page, sort=args.sort)
    if args.json:
        _print_json(res.to_dict())
        return 0
    if not res.hits:
        print(f"no documents match {query!r}" + (f" (page {res.page} of {res.pages})" if res.total else ""))
        return 0
    start, end = ("\033[1;31m", "\033[0m") if sys.stdout.isatty() else ("[", "]")
    first = (res.page - 1) * res.limit
    rows = [
        [first + n, h.fields["date"], h.fields["order_no"], h.fields["plate"], h.fields["vin"], h.fields["model"],
         h.fields["customer"], h.fields["total"], ("review" if h.fields["needs_review"] else ""), h.id]
        for n, h in enumerate(res.hits, 1)
    ]
    lines = table(["#", "date", "order", "plate", "VIN", "model", "customer", "total", "", "id"], rows, right=(0, 7))
    print(lines[0])
    for line, hit in zip(lines[1:], res.hits, strict=True):
        print(line)
        if hit.snippet:
            print("      " + hit.marked(start, end, escape=False))
    note = ", one OCR error allowed in Latin words" if res.fuzzy else ""
    print(f"{res.total} documents, page {res.page} of {res.pages}, by {res.sort}{note} ({res.seconds * 1000:.0f} ms)")
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    archive = _open("history", settings)
    with _index_errors("history", ValueError):
        entries = vehicle_history(archive, args.vehicle)
    if args.json:
        _print_json([e.to_dict() for e in entries])
        return 0
    if not entries:
        print(f"no orders for {args.vehicle!r}")
        return 0
    vins = sorted({e.vin for e in entries if e.vin})
    plates = sorted({e.plate for e in entries if e.plate})
    print(f"VIN: {', '.join(vins) or '-'}    plates: {', '.join(plates) or '-'}")
    rows = [
        [e.date, e.order_no, e.plate, e.vin, e.mileage_km, e.labor, e.parts, e.total,
         "、".join(i["name"] for i in e.items), ("via plate" if e.linked_by == "plate" and not e.vin else "")]
        for e in entries
    ]
    for line in table(["date", "order", "plate", "VIN", "km", "labour", "parts", "total", "work done", ""],
                      rows, right=(4, 5, 6, 7)):
        print(line)
    print(f"{len(entries)} orders")
    return 0


def _day(text: str | None, end: bool) -> date | None:
    return key_date(day_bound(text, end)) if text else None


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    archive = _open("stats", settings)
    with _index_errors("stats", QueryError):
        result = stats(archive, _day(args.date_from, False), _day(args.date_to, True), args.top)
    d = result.to_dict()
    if args.format == "json":
        _print_json(d)
        return 0
    if args.format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["section", "key", "count", "labour", "parts", "total"])
        for m in d["months"]:
            w.writerow(["month", m["month"], m["orders"], m["labor"], m["parts"], m["total"]])
        for i in d["top_items"]:
            w.writerow(["item", i["name"], i["count"], "", "", i["amount"]])
        for m in d["top_models"]:
            w.writerow(["model", m["model"], m["count"], "", "", ""])
        sys.stdout.write(buf.getvalue())
        return 0
    span = f"{d['from'] or 'start'} .. {d['to'] or 'end'}"
    print(f"{d['orders']} orders, {span}: labour {d['labor']}, parts {d['parts']}, total {d['total']}\n")
    for line in table(["month", "orders", "labour", "parts", "total"],
                      [[m["month"], m["orders"], m["labor"], m["parts"], m["total"]] for m in d["months"]],
                      right=(1, 2, 3, 4)):
        print(line)
    print()
    for line in table(["repair item", "count", "amount"],
                      [[i["name"], i["count"], i["amount"]] for i in d["top_items"]], right=(1, 2)):
        print(line)
    print()
    for line in table(["model", "orders"], [[m["model"], m["count"]] for m in d["top_models"]], right=(1,)):
        print(line)
    return 0


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    archive = _open("reindex", settings)
    with _index_errors("reindex"):
        stats = rebuild(archive, procs=args.procs)
    skipped = f"; {len(stats.skipped)} damaged sidecar(s) left out (see above, 'woa verify')" if stats.skipped else ""
    print(f"indexed {stats.docs} documents in {time.perf_counter() - started:.1f} s{skipped}")
    return 1 if stats.skipped else 0
