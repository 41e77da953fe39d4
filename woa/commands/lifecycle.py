"""Records lifecycle commands: ``woa lifecycle run``, ``woa hold``, ``woa dispose``, ``woa inventory``,
``woa tier`` (see docs/lifecycle.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from app.lifecycle import dispose
from app.lifecycle.hold import LifecycleError, release_hold, set_hold
from app.lifecycle.inventory import inventory
from app.lifecycle.retention import recompute_all
from app.lifecycle.run import run_pass
from app.lifecycle.state import load_state
from app.lifecycle.tier import TierError, context, keygen, move_to_cold, status
from core.archive import Archive, UnknownDocument
from core.identifiers import parse_day
from core.retention import add_period
from core.settings import Settings
from index import QueryError, update_index
from index.rows import select_rows
from woa.commands import (
    CommandError,
    action_group,
    complain,
    error_text,
    fails_with,
    open_archive,
    setting_flag,
)


def _today(args: argparse.Namespace) -> date:
    raw = getattr(args, "today", None)
    if raw:
        d = parse_day(raw)
        if d is None:
            raise SystemExit(f"woa: --today {raw!r}: use YYYY-MM-DD")
        return d
    return date.today()


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    lsub = action_group(sub, "lifecycle", "retention pass: reminders, due documents, tier moves")
    p = lsub.add_parser("run", parents=[common], help="one idempotent pass (run daily from a timer)")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="the pass's date (default: today)")
    setting_flag(p, "--no-tier", field="tier_after_days", action="store_const", const=0,
                 help="no tier moves in this pass")
    p.set_defaults(func=cmd_run)
    p = lsub.add_parser("recompute", parents=[common], help="recompute every document's retain_until now")
    p.set_defaults(func=cmd_recompute)
    p = lsub.add_parser("due", parents=[common], help="documents expiring within N days (即将到期)")
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--today", metavar="YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_due)

    hsub = action_group(sub, "hold", "legal hold: a held document is never disposed of")
    for name, helptext in (("set", "put documents (an id, or every hit of a query) on hold"),
                           ("release", "release the hold of documents")):
        p = hsub.add_parser(name, parents=[common], help=helptext)
        p.add_argument("target", metavar="ID-or-QUERY")
        p.add_argument("--reason", default="", help="why (required for set)")
        p.add_argument("--by", default=None, help="who (default: the reviewer setting / $USER)")
        p.set_defaults(func=cmd_hold_set if name == "set" else cmd_hold_release)
    p = hsub.add_parser("list", parents=[common], help="documents on hold")
    p.set_defaults(func=cmd_hold_list)

    p = sub.add_parser("dispose", parents=[common], help="list, approve or extend documents due for disposal")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--list", action="store_true", help="documents due for disposal (default)")
    g.add_argument("--approve", nargs="+", metavar="ID", help="dispose of these expired documents")
    g.add_argument("--extend", nargs="+", metavar="ID", help="keep these longer (--until or --years)")
    p.add_argument("--until", metavar="YYYY-MM-DD")
    p.add_argument("--years", type=int)
    p.add_argument("--reason", default="")
    p.add_argument("--by", default=None, help="who approves (default: the reviewer setting / $USER)")
    p.add_argument("--today", metavar="YYYY-MM-DD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_dispose)

    p = sub.add_parser("inventory", parents=[common],
                       help="per store and month: order-number gaps, duplicates, paper locations (定期盘点)")
    p.add_argument("--store", default=None)
    p.add_argument("--month", default=None, metavar="YYYY-MM")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_inventory)

    tsub = action_group(sub, "tier", "the cold storage tier")
    p = tsub.add_parser("status", parents=[common], help="how much sits where")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tier_status)
    p = tsub.add_parser("move", parents=[common], help="move these documents to the cold tier now")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.set_defaults(func=cmd_tier_move)
    p = tsub.add_parser("keygen", parents=[common], help="create a new AES-256 key file (mode 0600)")
    p.add_argument("path", type=Path)
    p.set_defaults(func=cmd_tier_keygen)


def audit(settings: Settings, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
    """Also record the action in the web app's audit trail."""
    from web import audit as web_audit  # Django loads only for the commands that audit
    from web.bootstrap import setup

    try:
        setup(settings)
        web_audit.record(actor=actor, action=action, target=target, detail=detail)
    except Exception as exc:  # the action is done and in lifecycle/events.jsonl; say what is missing
        print(f"woa: {action} {target}: not written to the web audit trail: {type(exc).__name__}: {exc}",
              file=sys.stderr)


def _targets(archive: Archive, target: str) -> list[str]:
    try:
        return [archive.resolve(target)]
    except UnknownDocument:
        pass
    return [r["id"] for r in select_rows(archive, target)]


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    report = run_pass(archive, settings, _today(args))
    if not args.quiet:
        print("\n".join(report.lines()))
    return 1 if report.reminder_failures or report.move_failures else 0


def cmd_recompute(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    changed = recompute_all(archive, settings)
    update_index(archive, changed)
    print(f"retention recomputed: {len(changed)} document(s) changed")
    return 0


def cmd_due(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    from whoosh import query as Q

    from index.analysis import date_key

    horizon = _today(args) + timedelta(days=args.days)
    rows = [r for r in select_rows(archive, Q.NumericRange("retain_until", None, date_key(horizon))) if not r["hold"]]
    rows.sort(key=lambda r: (r["retain_until"] or "", r["id"]))
    for r in rows:
        if args.json:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        else:
            print(f"{r['retain_until']}  {r['id']}  store {r['store'] or '-'}  order {r['order_no'] or '-'}  "
                  f"({r['retention_rule']})")
    return 0


def _actor(args: argparse.Namespace, settings: Settings) -> str:
    return str(args.by or settings.reviewer)


def cmd_hold_set(args: argparse.Namespace, settings: Settings) -> int:
    return _hold(args, settings, True)


def cmd_hold_release(args: argparse.Namespace, settings: Settings) -> int:
    return _hold(args, settings, False)


def _hold(args: argparse.Namespace, settings: Settings, on: bool) -> int:
    archive = open_archive(settings)
    with fails_with(QueryError, status=2):
        ids = _targets(archive, args.target)
    if not ids:
        raise CommandError(f"no document matches {args.target!r}")
    actor = _actor(args, settings)
    rc = 0
    for doc_id in ids:
        try:
            doc = set_hold(archive, doc_id, args.reason, actor) if on else release_hold(archive, doc_id, actor, args.reason)
        except LifecycleError as exc:
            complain(exc)
            rc = 1
            continue
        audit(settings, actor, "hold.set" if on else "hold.release", doc_id, {"reason": args.reason})
        if not args.quiet:
            print(f"{doc.id}: {'on hold (' + args.reason + ')' if on else 'hold released'}")
    return rc


def cmd_hold_list(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    for r in select_rows(archive, "hold:yes"):
        doc = archive.load(r["id"])
        h = doc.hold or {}
        print(f"{doc.id}  since {h.get('at')}  by {h.get('by')}  {h.get('reason')}")
    return 0


def cmd_dispose(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    today = _today(args)
    actor = _actor(args, settings)
    if args.approve:
        rc = 0
        with fails_with(TierError):
            ctx = context(settings)
        for target in args.approve:
            try:
                doc_id = archive.resolve(target)
                tomb = dispose.approve(archive, settings, doc_id, actor, today, ctx.tier if ctx else None)
            except (UnknownDocument, LifecycleError, TierError) as exc:
                complain(exc)
                rc = 1
                continue
            audit(settings, actor, "dispose.approve", doc_id, {k: tomb[k] for k in ("sha256", "order_no", "store",
                                                                                   "retain_until", "retention_rule")})
            print(f"{doc_id}: disposed of (tombstone kept; kept until {tomb['retain_until']}, {tomb['retention_rule']})")
        return rc
    if args.extend:
        if not args.until and not args.years:
            raise CommandError("--extend needs --until YYYY-MM-DD or --years N", 2)
        rc = 0
        for target in args.extend:
            try:
                doc_id = archive.resolve(target)
                doc = archive.load(doc_id)
                base = parse_day(doc.retain_until) or today
                until = parse_day(args.until) if args.until else add_period(base, args.years, 0, 0)
                if until is None:
                    raise LifecycleError(f"--until {args.until!r}: use YYYY-MM-DD")
                doc = dispose.extend(archive, settings, doc_id, until, actor, args.reason)
            except (UnknownDocument, LifecycleError) as exc:
                complain(exc)
                rc = 1
                continue
            audit(settings, actor, "dispose.extend", doc_id, {"until": doc.retain_until, "reason": args.reason})
            print(f"{doc_id}: kept until {doc.retain_until}")
        return rc
    state = load_state(archive)
    for doc_id, d in sorted(state.due.items(), key=lambda kv: (kv[1].get("until", ""), kv[0])):
        if args.json:
            sys.stdout.write(json.dumps({"id": doc_id, **d}, ensure_ascii=False) + "\n")
        else:
            print(f"{doc_id}  expired {d.get('until')}  store {d.get('store') or '-'}  order {d.get('order_no') or '-'}"
                  f"  due since {d.get('since')}")
    if not args.quiet and not args.json:
        print(f"{len(state.due)} document(s) due for disposal (as of the last 'woa lifecycle run', "
              f"{state.last_run or 'never'})", file=sys.stderr)
    return 0


def cmd_inventory(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    groups = inventory(archive, store=args.store, month=args.month)
    for g in groups:
        if args.json:
            sys.stdout.write(json.dumps(g.to_dict(), ensure_ascii=False) + "\n")
            continue
        print(f"{g.store or '(no store)'}  {g.month}  {g.documents} documents, orders {g.first or '-'}..{g.last or '-'}")
        if g.gaps:
            print(f"  missing order numbers ({len(g.gaps)}): {', '.join(g.gaps[:50])}" + (" …" if len(g.gaps) > 50 else ""))
        for order, ids in g.duplicates.items():
            print(f"  order {order} archived {len(ids)} times: {', '.join(ids)}")
        for loc, n in g.locations.items():
            print(f"  paper: {n} at {loc}")
    return 0


def cmd_tier_status(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    with fails_with(TierError):
        st = status(archive, settings)
    if args.json:
        print(json.dumps(st, ensure_ascii=False))
        return 0
    print(f"hot   {st['hot_documents']:>8} documents  {st['hot_bytes'] / 1e6:10.1f} MB  in {archive.root}")
    print(f"cold  {st['cold_documents']:>8} documents  {st['cold_bytes'] / 1e6:10.1f} MB  in {st['cold_where'] or '-'}"
          + (f"  ({st['cold_objects']} objects)" if st["cold_objects"] is not None else ""))
    print(f"cache {st['cache_files']:>8} files      {st['cache_bytes'] / 1e6:10.1f} MB")
    return 0


def cmd_tier_move(args: argparse.Namespace, settings: Settings) -> int:
    archive = open_archive(settings)
    with fails_with(TierError):
        ctx = context(settings)
    if ctx is None:
        raise CommandError("no cold tier configured (tier_url)")
    rc = 0
    moved = []
    for target in args.ids:
        try:
            moved.append(move_to_cold(archive, ctx, archive.resolve(target)))
        except (UnknownDocument, TierError, OSError) as exc:
            complain(f"{target}: {error_text(exc)}")
            rc = 1
    update_index(archive, moved)
    for doc in moved:
        print(f"{doc.id}: moved to {doc.tier['where']}")
    return rc


def cmd_tier_keygen(args: argparse.Namespace, settings: Settings) -> int:
    with fails_with(TierError):
        keygen(args.path)
    print(f"key written to {args.path} (mode 0600); set tier_key_file and keep a copy off this machine")
    return 0
