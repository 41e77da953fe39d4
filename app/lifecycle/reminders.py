"""Reminder digests before documents reach their retention date, by e-mail over SMTP."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from typing import Any

from core.settings import Settings


@dataclass
class Reminder:
    doc_id: str
    store: str
    lead: int  # the lead time (days) this reminder is for
    leads: list[int]  # every lead time it settles (a document first seen inside 30 days settles 90 too)
    days_left: int
    row: dict[str, Any]


Mailer = Callable[[str, list[str], str, str], None]  # (store, recipients, subject, body)


def recipients_for(settings: Settings, store: str) -> list[str]:
    rc = settings.reminder_recipients
    return list(rc.get(store) or rc.get("*") or [])


def digest(store: str, reminders: list[Reminder], today: date) -> tuple[str, str]:
    """Subject and body of one store's digest."""
    label = store or "(no store)"
    n = len(reminders)
    subject = f"[woa] {label}: {n} document{'s' * (n != 1)} reach their retention date (即将到期)"
    lines = [f"Retention digest for store {label}, {today.isoformat()}.", ""]
    for r in sorted(reminders, key=lambda r: (r.days_left, r.doc_id)):
        when = "expired, due for disposal" if r.days_left <= 0 else f"in {r.days_left} days"
        row = r.row
        lines.append(f"  {r.doc_id}  order {row.get('order_no') or '-'}  out {row.get('date_out') or '-'}  "
                     f"keep until {row.get('retain_until')} ({row.get('retention_rule') or '-'})  {when}")
    lines += ["", "Expired documents wait for a manager's approval: woa dispose --list / --approve ID.",
              "A legal hold keeps a document whatever its retention: woa hold set ID --reason ..."]
    return subject, "\n".join(lines) + "\n"


def smtp_mailer(settings: Settings) -> Mailer:
    """Send through the configured SMTP server (plain, STARTTLS or SSL; login if a user is set)."""
    password = ""
    if settings.smtp_user and settings.smtp_password_file is not None:
        password = settings.smtp_password_file.read_text(encoding="utf-8").strip()

    def send(store: str, to: list[str], subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = settings.smtp_from
        msg["To"] = ", ".join(to)
        msg["Subject"] = subject
        msg["X-Woa-Store"] = store
        msg.set_content(body)
        server: smtplib.SMTP
        if settings.smtp_tls == "ssl":
            server = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout,
                                      context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
        with server:
            if settings.smtp_tls == "starttls":
                server.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                server.login(settings.smtp_user, password)
            server.send_message(msg)

    return send
