"""The clerk's and the manager's pages: review queue, upload, statistics."""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from app.ingest import ingest_file
from core.models import CANONICAL_FIELDS
from core.scanfiles import SCAN_SUFFIXES
from extractors.review import ReviewError
from index.analysis import key_date
from index.query import QueryError, day_bound
from index.store import IndexUnavailable
from web import audit
from web.documents import pages, scope
from web.documents.views import _field_rows, cell
from web.net import client_address

log = logging.getLogger(__name__)


def _audit(request: HttpRequest, action: str, target: str = "", **detail: Any) -> None:
    audit.record(request.user.get_username(), action, target, detail, client_address(request))


# -- review -----------------------------------------------------------------------------------
@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "review")
    try:
        hits, total = scope.review_queue(request.user)
    except IndexUnavailable:
        log.exception("search index unavailable")
        from web.errors import error_page

        return error_page(request, 503, _("Search unavailable"),
                          _("The search index is not available; ask the administrator to run 'woa reindex'."))
    rows = [{"hit": h, "store": scope.hit_store(h.fields.get("store"))} for h in hits]
    return render(request, "web/review_queue.html", {"rows": rows, "total": total})


def _apply(request: HttpRequest, doc_id: str, confirm_all: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """Corrections from the form: changed fields (and with ``confirm_all`` every doubtful field as
    shown). Returns the history entries written and the one-line errors."""
    doc = scope.get_document(request.user, doc_id, "review")
    threshold = scope.settings().review_threshold
    written: list[dict[str, Any]] = []
    errors: list[str] = []
    for name in CANONICAL_FIELDS:
        key = f"f_{name}"
        if key not in request.POST:
            continue
        value = request.POST[key].strip()
        fv = doc.fields.get(name)
        current = "" if fv is None or fv.value is None else str(fv.value)
        changed = value != current
        doubtful = fv is not None and fv.confidence < threshold
        if not (changed or (confirm_all and doubtful)) or (not value and not current):
            continue
        try:
            corr = scope.correct(request.user, doc.id, name, value)
        except ReviewError as exc:
            errors.append(f"{name}: {exc}")
            continue
        written.append(corr.entry)
        _audit(request, "correction", doc.id, field=name, old=corr.entry["old"], new=corr.entry["new"],
               confirmed=not changed)
    return written, errors


@login_required
@require_http_methods(["GET", "POST"])
def review_document(request: HttpRequest, doc_id: str) -> HttpResponse:
    doc = scope.get_document(request.user, doc_id, "review")
    if request.method == "POST":
        action = request.POST.get("action", "save")
        written, errors = _apply(request, doc.id, confirm_all=action == "confirm")
        doc = scope.get_document(request.user, doc.id, "review")
        if request.headers.get("x-requested-with") == "fetch":
            rows = {r["name"]: r for r in _field_rows(doc, scope.settings().review_threshold)}
            return JsonResponse({
                "ok": not errors, "errors": errors, "needs_review": doc.needs_review,
                "fields": {n: {"value": r["value"], "shown": r["shown"], "doubtful": r["doubtful"],
                               "valid": r["valid"], "note": r["note"]} for n, r in rows.items()},
                "written": written}, status=200 if not errors else 400)
        if errors:
            return _review_page(request, doc, errors, status=400)
        if action == "confirm" or not doc.needs_review:
            nxt = scope.next_for_review(request.user, after=doc.id)
            return HttpResponseRedirect(reverse("review_document", args=[nxt]) if nxt else reverse("review_queue"))
        return HttpResponseRedirect(reverse("review_document", args=[doc.id]))
    _audit(request, "view", doc.id, page="review")
    return _review_page(request, doc, [])


def _review_page(request: HttpRequest, doc: Any, errors: list[str], status: int = 200) -> HttpResponse:
    fields = _field_rows(doc, scope.settings().review_threshold)
    first = next((f["name"] for f in fields if f["doubtful"] and f["value"] is not None), None)
    ctx = {"doc": doc, "fields": fields, "first": first, "errors": errors, "store": scope.store_of(doc),
           "pages": [{"no": p.page_no, "width": p.width, "height": p.height} for p in doc.pages],
           "history": list(reversed(doc.history)), "next_id": scope.next_for_review(request.user, after=doc.id),
           "zoom_width": max(pages.WIDTHS)}
    return render(request, "web/review.html", ctx, status=status)


# -- upload -----------------------------------------------------------------------------------
_MAGIC = (b"%PDF-", b"II*\x00", b"MM\x00*", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def safe_name(name: str) -> str:
    """The browser's file name reduced to a plain file name: no folders (``/``, ``\\``), no
    control characters, no leading dots, at most 120 characters. Only used as the document's
    source name; the file on disk gets a generated folder."""
    base = name.replace("\\", "/").split("/")[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip().lstrip(".")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem[:100] or "upload"
    return f"{stem}.{ext[:10]}" if ext else stem


def upload_inbox(store: str) -> Path:
    """Where uploads wait for ingest: the archive's web inbox, one folder per store."""
    return scope.settings().archive_dir / "inbox" / "web" / (store or "_")


def _wants_json(request: HttpRequest) -> bool:
    """The upload page's script (and API-like clients) get JSON; a plain form post gets a page."""
    return (request.headers.get("x-requested-with") == "fetch" or request.path.startswith("/api/")
            or "application/json" in request.headers.get("accept", ""))


def _refuse(request: HttpRequest, name: str, reason: str, status: int, store: str) -> HttpResponse:
    _audit(request, "upload", name, store=store, status="refused", reason=reason)
    if not _wants_json(request):
        from web.errors import error_page

        return error_page(request, status, _("File refused"), f"{name}: {reason}" if name else reason)
    return JsonResponse({"name": name, "status": "refused", "reason": reason}, status=status)


@login_required
@require_GET
def upload_page(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "upload")
    stores = _stores(request, "upload")
    return render(request, "web/upload.html", {"stores": stores, "max_mb": scope.settings().web_max_upload_bytes // 2**20})


def _stores(request: HttpRequest, perm: str) -> list[tuple[str, str]]:
    from web.accounts.models import Store

    allowed = scope.access(request.user).stores(perm)
    qs = Store.objects.all() if allowed is None else Store.objects.filter(code__in=allowed)
    out = [(s.code, s.name) for s in qs]
    if allowed is None and not out:
        out = [(scope.settings().default_store, scope.settings().default_store or "—")]
    return out


@login_required
@require_http_methods(["POST"])
def upload_file(request: HttpRequest) -> HttpResponse:
    """One file per request (the page sends each file on its own, with its own progress)."""
    scope.require(request.user, "upload")
    settings = scope.settings()
    store = request.POST.get("store", "")
    allowed = {code for code, _ in _stores(request, "upload")}
    if store not in allowed:
        if len(allowed) == 1 and not store:
            store = next(iter(allowed))
        else:
            return _refuse(request, "", _("You may not upload into this store."), 403, store)
    upload = request.FILES.get("file")
    if upload is None:
        return _refuse(request, "", _("No file was sent."), 400, store)
    name = safe_name(upload.name or "")
    if upload.size > settings.web_max_upload_bytes:
        return _refuse(request, name, _("The file is larger than %(mb)d MB.") % {
            "mb": settings.web_max_upload_bytes // 2**20}, 413, store)
    head = upload.read(8)
    upload.seek(0)
    if not name.lower().endswith(tuple(SCAN_SUFFIXES)) or not head.startswith(_MAGIC):
        return _refuse(request, name, _("Not a scan: only PDF, TIFF, JPEG and PNG files are archived."), 415, store)
    inbox = upload_inbox(store)
    folder = inbox / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=False)
    dest = folder / name
    if dest.resolve().parent != folder.resolve():  # cannot happen with safe_name; never write elsewhere
        return _refuse(request, name, _("Invalid file name."), 400, store)
    try:
        with dest.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        result = ingest_file(dest, settings, archive=scope.archive(), store=store)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not result.ok:
        return _refuse(request, name, result.error or _("The file could not be archived."), 422, store)
    _audit(request, "upload", result.doc_id or "", name=name, store=store, status=result.status,
           pages=result.pages, needs_review=result.needs_review)
    if not _wants_json(request):
        return HttpResponseRedirect(reverse("document", args=[result.doc_id]))
    return JsonResponse({"name": name, "status": result.status, "id": result.doc_id, "pages": result.pages,
                         "needs_review": result.needs_review,
                         "url": reverse("document", args=[result.doc_id])})


# -- statistics -------------------------------------------------------------------------------
def _stats_request(request: HttpRequest) -> tuple[dict[str, str], Any]:
    form = {"from": request.GET.get("from", "").strip(), "to": request.GET.get("to", "").strip(),
            "store": request.GET.get("store", "").strip()}
    lo = key_date(day_bound(form["from"], False)) if form["from"] else None
    hi = key_date(day_bound(form["to"], True)) if form["to"] else None
    result = scope.stats(request.user, lo, hi, 10, stores=[form["store"]] if form["store"] else None)
    return form, result


def _malformed_query_is_400(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """A view whose query cannot be read answers with the 400 page that says why."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest) -> HttpResponse:
        try:
            return view(request)
        except QueryError as exc:
            from web.errors import error_page

            return error_page(request, 400, _("Malformed query"), str(exc))

    return wrapped


@login_required
@require_GET
@_malformed_query_is_400
def statistics_page(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "stats")
    form, result = _stats_request(request)
    d = result.to_dict()
    money = lambda v: float(v or 0)  # noqa: E731
    months = d["months"]
    charts = {
        "months": {"type": "bar", "stack": True, "money": True, "categories": [m["month"] for m in months],
                   "series": [{"name": _("Labour"), "data": [money(m["labor"]) for m in months]},
                              {"name": _("Parts"), "data": [money(m["parts"]) for m in months]}]},
        "items": {"type": "bar", "horizontal": True, "categories": [i["name"] for i in d["top_items"]],
                  "series": [{"name": _("Orders"), "data": [i["count"] for i in d["top_items"]]}]},
        "models": {"type": "bar", "horizontal": True, "categories": [m["model"] for m in d["top_models"]],
                   "series": [{"name": _("Orders"), "data": [m["count"] for m in d["top_models"]]}]},
        "advisors": {"type": "bar", "money": True, "categories": [a["advisor"] or "—" for a in d["advisors"]],
                     "series": [{"name": _("Total"), "data": [money(a["total"]) for a in d["advisors"]]}]},
        "stores": {"type": "bar", "money": True, "categories": [scope.hit_store(s["store"]) or "—" for s in d["stores"]],
                   "series": [{"name": _("Total"), "data": [money(s["total"]) for s in d["stores"]]}]},
    }
    for s in d["stores"]:
        s["store"] = scope.hit_store(s["store"])
    ctx = {"form": form, "d": d, "charts": {k: json.dumps(v, ensure_ascii=False) for k, v in charts.items()},
           "stores": _stores(request, "stats"), "query": urlencode({k: v for k, v in form.items() if v})}
    return render(request, "web/statistics.html", ctx)


@login_required
@require_GET
@_malformed_query_is_400
def statistics_export(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "stats")
    scope.require(request.user, "export")
    form, result = _stats_request(request)
    d = result.to_dict()
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow(["section", "key", "count", "labour", "parts", "total"])
    for m in d["months"]:
        w.writerow(["month", m["month"], m["orders"], m["labor"], m["parts"], m["total"]])
    for i in d["top_items"]:
        w.writerow(["item", cell(i["name"]), i["count"], "", "", i["amount"]])
    for m in d["top_models"]:
        w.writerow(["model", cell(m["model"]), m["count"], "", "", ""])
    for a in d["advisors"]:
        w.writerow(["advisor", cell(a["advisor"]), a["orders"], a["labor"], a["parts"], a["total"]])
    for s in d["stores"]:
        w.writerow(["store", scope.hit_store(s["store"]), s["orders"], s["labor"], s["parts"], s["total"]])
    _audit(request, "export", "statistics", format="csv", **form)
    resp = HttpResponse(buf.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="woa-statistics.csv"'
    return resp
