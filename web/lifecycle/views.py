"""即将到期, disposal approval, holds, inventory and tier status, scoped to the user's stores."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from whoosh import query as Q

from app.lifecycle import dispose
from app.lifecycle.hold import LifecycleError, release_hold, set_hold
from app.lifecycle.inventory import inventory
from app.lifecycle.state import load_state
from app.lifecycle.tier import TierError, context, status
from core.identifiers import parse_day
from core.retention import add_period
from index.analysis import date_key
from index.rows import select_rows
from web import audit
from web.documents import scope
from web.net import client_address

log = logging.getLogger(__name__)

PERM = "lifecycle"
HORIZON_DAYS = 90


def _today(request: HttpRequest) -> date:
    return date.today()


def _mine(request: HttpRequest, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of stores where the user may act on the lifecycle (a row's "" store = default_store)."""
    allowed = scope.access(request.user).stores(PERM)
    default = scope.settings().default_store
    out = []
    for r in rows:
        r = {**r, "store": r["store"] or default}
        if allowed is None or r["store"] in allowed:
            out.append(r)
    return out


@login_required
@require_GET
def expiring_page(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, PERM)
    today = _today(request)
    ar = scope.archive()
    rows = _mine(request, select_rows(ar, Q.NumericRange("retain_until", None, date_key(today + timedelta(HORIZON_DAYS)))))
    for r in rows:
        until = parse_day(r["retain_until"])
        r["days_left"] = (until - today).days if until else None
    due = sorted((r for r in rows if not r["hold"] and r["days_left"] is not None and r["days_left"] <= 0),
                 key=lambda r: (r["retain_until"], r["id"]))
    soon = sorted((r for r in rows if not r["hold"] and r["days_left"] is not None and r["days_left"] > 0),
                  key=lambda r: (r["retain_until"], r["id"]))
    state = load_state(ar)
    return render(request, "web/lifecycle.html", {"due": due, "soon": soon, "horizon": HORIZON_DAYS,
                                                  "last_run": state.last_run, "today": today})


@login_required
@require_GET
def holds_page(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, PERM)
    ar = scope.archive()
    rows = _mine(request, select_rows(ar, Q.Term("hold", True)))
    for r in rows:
        r["hold_info"] = ar.load(r["id"]).hold or {}
    return render(request, "web/lifecycle_holds.html", {"rows": rows})


@login_required
@require_GET
def inventory_page(request: HttpRequest) -> HttpResponse:
    acc = scope.require(request.user, PERM)
    month = request.GET.get("month") or None
    allowed = acc.stores(PERM)
    default = scope.settings().default_store
    groups = [g for g in inventory(scope.archive(), month=month)
              if allowed is None or (g.store or default) in allowed]
    return render(request, "web/lifecycle_inventory.html", {"groups": groups, "month": month or ""})


@login_required
@require_GET
def tier_page(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, PERM)
    try:
        st: dict[str, Any] | None = status(scope.archive(), scope.settings())
        error = ""
    except TierError as exc:
        st, error = None, str(exc)
    return render(request, "web/lifecycle_tier.html", {"st": st, "error": error})


@login_required
@require_POST
def document_action(request: HttpRequest, doc_id: str, action: str) -> HttpResponse:
    """approve (dispose), extend (years), hold (reason), release — for a document of the user's stores."""
    if action not in ("approve", "extend", "hold", "release"):
        return HttpResponseBadRequest("unknown action")
    doc = scope.get_document(request.user, doc_id, PERM)
    ar, settings = scope.archive(), scope.settings()
    user = request.user.get_username()
    reason = (request.POST.get("reason") or "").strip()
    try:
        if action == "approve":
            ctx = context(settings)
            tomb = dispose.approve(ar, settings, doc.id, user, _today(request), ctx.tier if ctx else None)
            detail = {k: tomb[k] for k in ("sha256", "order_no", "store", "retain_until", "retention_rule")}
            messages.success(request, f"{doc.id}: disposed of (tombstone kept)")
        elif action == "extend":
            years = int(request.POST.get("years") or "0")
            if not 1 <= years <= 50:
                raise LifecycleError("give 1 to 50 years")
            base = parse_day(doc.retain_until) or _today(request)
            doc = dispose.extend(ar, settings, doc.id, add_period(base, years, 0, 0), user, reason)
            detail = {"until": doc.retain_until, "reason": reason}
            messages.success(request, f"{doc.id}: kept until {doc.retain_until}")
        elif action == "hold":
            set_hold(ar, doc.id, reason, user)
            detail = {"reason": reason}
            messages.success(request, f"{doc.id}: on legal hold")
        else:
            release_hold(ar, doc.id, user, reason)
            detail = {"reason": reason}
            messages.success(request, f"{doc.id}: hold released")
    except (LifecycleError, TierError, ValueError) as exc:
        messages.error(request, str(exc))
        return redirect(request.POST.get("next") or "lifecycle")
    audit.record(user, {"approve": "dispose.approve", "extend": "dispose.extend", "hold": "hold.set",
                        "release": "hold.release"}[action], doc.id, detail, client_address(request))
    nxt = request.POST.get("next") or ""
    return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else "lifecycle")
