"""``woa lifecycle run``: one idempotent daily pass (reminders, due documents, tier moves).

What a pass reads comes from the search index (retention date, hold, tier, store, order number,
dates are index fields) and the small state file; no sidecar is read except those of documents
that move tier or whose retention must be recomputed because the rules changed.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from whoosh import query as Q

from app.lifecycle import dispose
from app.lifecycle.reminders import Mailer, Reminder, digest, recipients_for, smtp_mailer
from app.lifecycle.retention import recompute_all, rules_fingerprint
from app.lifecycle.state import load_state, log_event, save_state, state_lock
from app.lifecycle.tier import TierError, context, interrupted_moves, last_access, move_to_cold, prune_cache
from core.archive import Archive
from core.identifiers import parse_day
from core.settings import Settings
from index import update_index
from index.analysis import date_key
from index.rows import select_rows

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    today: date
    recomputed: int = 0
    reminders_sent: list[Reminder] = field(default_factory=list)
    mails: int = 0
    reminder_failures: list[str] = field(default_factory=list)  # a mail that failed: retried next run
    unmailed: list[str] = field(default_factory=list)  # no smtp_host: listed only (mailed once one is set)
    due: int = 0
    newly_due: list[str] = field(default_factory=list)
    disposals_finished: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    move_failures: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"lifecycle pass for {self.today.isoformat()}:"]
        if self.recomputed:
            out.append(f"  retention recomputed for {self.recomputed} documents (the rules changed)")
        out.append(f"  reminders: {len(self.reminders_sent)} documents in {self.mails} digest mail(s)")
        out += [f"  reminder not sent: {r}" for r in self.reminder_failures]
        out += [f"  reminder not mailed (no smtp_host): {r}" for r in self.unmailed]
        out.append(f"  due for disposal: {self.due} ({len(self.newly_due)} new); approve with 'woa dispose --approve'")
        if self.disposals_finished:
            out.append(f"  interrupted disposals finished: {', '.join(self.disposals_finished)}")
        if self.moved or self.move_failures:
            out.append(f"  moved to the cold tier: {len(self.moved)}")
            out += [f"  not moved: {r}" for r in self.move_failures]
        return out


def _rows_expiring(archive: Archive, until: date) -> list[dict[str, Any]]:
    return select_rows(archive, Q.NumericRange("retain_until", None, date_key(until)))


def tier_cutoff(settings: Settings, today: date) -> date | None:
    return today - timedelta(days=settings.tier_after_days) if settings.tier_after_days > 0 else None


def run_pass(archive: Archive, settings: Settings, today: date, mailer: Mailer | None = None,
             on_step: Callable[[str], None] | None = None) -> RunReport:
    report = RunReport(today=today)
    with state_lock(archive):
        state = load_state(archive)
        fingerprint = rules_fingerprint(settings)
        if state.rules != fingerprint:
            changed = recompute_all(archive, settings)
            if changed:
                update_index(archive, changed)
            report.recomputed = len(changed)
            state.rules = fingerprint
            save_state(archive, state)
    for doc_id in dispose.unfinished(archive):
        try:
            dispose.finish(archive, settings, doc_id)
            report.disposals_finished.append(doc_id)
        except (TierError, dispose.LifecycleError) as exc:
            log.error("disposal of %s not finished: %s", doc_id, exc)

    leads = settings.reminder_days
    horizon = today + timedelta(days=max(leads) if leads else 0)
    rows = _rows_expiring(archive, horizon)
    with state_lock(archive):
        state = load_state(archive)
        queued: dict[str, list[Reminder]] = defaultdict(list)
        due: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        for row in rows:
            doc_id = row["id"]
            seen.add(doc_id)
            until = parse_day(row.get("retain_until"))
            if until is None or row["hold"]:
                continue  # a held document gets no reminder and is never due
            days_left = (until - today).days
            if days_left <= 0:
                due[doc_id] = state.due.get(doc_id) or {"since": today.isoformat(), "until": until.isoformat(),
                                                         "store": row["store"], "order_no": row["order_no"]}
                if doc_id not in state.due:
                    report.newly_due.append(doc_id)
            rec = state.reminders.get(doc_id)
            if rec is None or rec.get("until") != until.isoformat():
                rec = {"until": until.isoformat(), "sent": []}
                state.reminders[doc_id] = rec
            reached = [d for d in leads if days_left <= d]
            pending = [d for d in reached if d not in rec["sent"]]
            if pending:
                queued[row["store"]].append(Reminder(doc_id, row["store"], min(pending), pending, days_left, row))
        state.reminders = {k: v for k, v in state.reminders.items() if k in seen}
        state.due = due
        report.due = len(due)
        send = mailer or (smtp_mailer(settings) if settings.smtp_host else None)
        for store, reminders in sorted(queued.items()):
            to = recipients_for(settings, store)
            if send is None:
                report.unmailed += [f"store {r.store or '(none)'}: {r.doc_id} keep until {r.row.get('retain_until')}"
                                    for r in reminders]
                continue
            if not to:
                report.reminder_failures.append(f"{len(reminders)} document(s) of store {store or '(none)'}: "
                                                f"no recipients (reminder_recipients)")
                continue
            subject, body = digest(store, reminders, today)
            try:
                send(store, to, subject, body)
            except (OSError, ValueError) as exc:  # smtplib errors are OSErrors
                report.reminder_failures.append(f"store {store or '(none)'}: {type(exc).__name__}: {exc}; retried next run")
                continue
            report.mails += 1
            for r in reminders:
                state.reminders[r.doc_id]["sent"] = sorted(set(state.reminders[r.doc_id]["sent"]) | set(r.leads),
                                                           reverse=True)
                report.reminders_sent.append(r)
            save_state(archive, state)  # recorded right after each mail: a crash repeats at most one digest
        state.last_run = today.isoformat()
        save_state(archive, state)
    for doc_id in report.newly_due:
        log_event(archive, "dispose.due", doc_id, "woa lifecycle run", {"until": due[doc_id]["until"]})
    _tier_moves(archive, settings, today, report, on_step)
    return report


def _tier_moves(archive: Archive, settings: Settings, today: date, report: RunReport,
                on_step: Callable[[str], None] | None) -> None:
    cutoff = tier_cutoff(settings, today)
    if cutoff is None or not settings.tier_url:
        return
    try:
        ctx = context(settings)
    except TierError as exc:
        report.move_failures.append(str(exc))
        return
    if ctx is None:
        return
    q = Q.And([Q.Term("tier", "hot"), Q.NumericRange("date", None, date_key(cutoff), endexcl=True)])
    rows = select_rows(archive, q)
    # The index's order date is date_in where there is one; the tier counts from date_out
    # (as retention does), which is never earlier: keep only orders delivered before the cut-off.
    rows = [r for r in rows if not r.get("date_out") or str(r["date_out"]) < cutoff.isoformat()]
    if settings.tier_by == "last_access":  # also not opened since the cut-off
        limit = time.mktime(cutoff.timetuple())
        rows = [r for r in rows if (last_access(archive, r["id"]) or 0.0) < limit]
    rows = rows[: settings.tier_batch]
    leftovers = interrupted_moves(archive)  # a crash mid-move: finish (or redo) it first
    moved = []
    for doc_id in list(dict.fromkeys(leftovers + [r["id"] for r in rows])):
        try:
            moved.append(move_to_cold(archive, ctx, doc_id, on_step))
            report.moved.append(doc_id)
        except TierError as exc:
            report.move_failures.append(str(exc))
            if "Could not connect" in str(exc) or "InvalidAccessKeyId" in str(exc) or "SignatureDoesNotMatch" in str(exc):
                break  # the tier is unreachable or refuses us: every other move would fail the same way
        except OSError as exc:
            report.move_failures.append(f"{doc_id}: {exc.strerror or exc}")
    if moved:
        update_index(archive, moved)
        for doc in moved:
            log_event(archive, "tier.move", doc.id, "woa lifecycle run", {"where": doc.tier.get("where")})
    prune_cache(archive, settings.tier_cache_days)
