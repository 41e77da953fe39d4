"""Pages over the archive. Every document, hit, history and count comes through ``scope``."""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import mimetypes
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from app.lifecycle.tier import record_access
from core.models import CANONICAL_FIELDS, Document
from index.query import QueryError, day_bound
from index.search import Sort
from index.store import IndexUnavailable
from web import audit
from web.documents import pages, scope
from web.documents.labels import FIELD_LABELS, MONEY_FIELDS
from web.net import client_address
from web.templatetags.woa import format_yuan

log = logging.getLogger(__name__)

PAGE_SIZES = (20, 50, 100)
EXPORT_MAX = 10_000
RESULT_COLUMNS = ("date", "order_no", "plate", "vin", "model", "customer", "total")


def _audit(request: HttpRequest, action: str, target: str = "", **detail: Any) -> None:
    audit.record(request.user.get_username(), action, target, detail, client_address(request))


@dataclass
class SearchForm:
    """The search box and its filters, as given in the query string."""

    q: str = ""
    date_from: str = ""
    date_to: str = ""
    store: str = ""
    review: bool = False
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_request(cls, request: HttpRequest) -> SearchForm:
        g = request.GET
        sort: Sort = "date" if g.get("sort") == "date" else "relevance"
        try:
            page = max(1, int(g.get("page", "1")))
        except ValueError:
            page = 1
        try:
            per_page = int(g.get("per_page", "20"))
        except ValueError:
            per_page = 20
        return cls(q=g.get("q", "").strip()[:500], date_from=g.get("from", "").strip(), date_to=g.get("to", "").strip(),
                   store=g.get("store", "").strip(), review=g.get("review") in ("1", "on", "yes"),
                   sort=sort, page=page,
                   per_page=per_page if per_page in PAGE_SIZES else 20)

    @property
    def active(self) -> bool:
        return bool(self.q or self.date_from or self.date_to or self.store or self.review)

    def query(self) -> str:
        """The full query in ``woa search`` syntax (raises QueryError for a malformed date)."""
        parts = [self.q] if self.q else []
        if self.date_from or self.date_to:
            for d in (self.date_from, self.date_to):
                if d:
                    day_bound(d, end=False)  # validates
            parts.append(f"date:{self.date_from}..{self.date_to}")
        if self.review:
            parts.append("needs_review:yes")
        return " ".join(parts)

    def stores(self) -> list[str] | None:
        return [self.store] if self.store else None

    def params(self, **change: Any) -> str:
        from urllib.parse import urlencode

        d: dict[str, Any] = {"q": self.q, "from": self.date_from, "to": self.date_to, "store": self.store,
                             "review": "1" if self.review else "", "sort": self.sort, "per_page": self.per_page,
                             "page": self.page}
        d.update(change)
        return urlencode({k: v for k, v in d.items() if v not in ("", None)})


def _store_choices(request: HttpRequest, perm: str = "view") -> list[tuple[str, str]]:
    from web.accounts.models import Store

    allowed = scope.access(request.user).stores(perm)
    qs = Store.objects.all() if allowed is None else Store.objects.filter(code__in=allowed)
    return [(s.code, s.name) for s in qs]


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "view")
    form = SearchForm.from_request(request)
    ctx: dict[str, Any] = {"form": form, "stores": _store_choices(request), "results": None, "error": "",
                           "page_sizes": PAGE_SIZES}
    status = 200
    if form.active:
        try:
            res = scope.search(request.user, form.query(), limit=form.per_page, page=form.page,
                               sort=form.sort,
                               stores=form.stores())
        except (QueryError, ValueError) as exc:
            ctx["error"] = _("The query cannot be understood: %(reason)s") % {"reason": exc}
            status = 400
        except IndexUnavailable:
            log.exception("search index unavailable")
            ctx["error"] = _("The search index is not available; ask the administrator to run 'woa reindex'.")
            status = 503
        else:
            ctx["results"] = res
            ctx["rows"] = [{"hit": h, "store": scope.hit_store(h.fields.get("store")),
                            "snippet": h.marked("<mark>", "</mark>")} for h in res.hits]
            ctx["prev_url"] = form.params(page=res.page - 1) if res.page > 1 else ""
            ctx["next_url"] = form.params(page=res.page + 1) if res.page < res.pages else ""
            ctx["sort_urls"] = {s: form.params(sort=s, page=1) for s in ("relevance", "date")}
            ctx["export_params"] = form.params(page="")
    return render(request, "web/search.html", ctx, status=status)


def cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run: OCR'd text starting with = + - @ (or a tab/CR) is
    prefixed with ' (CSV/formula injection); numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _export_rows(request: HttpRequest, form: SearchForm) -> tuple[list[str], list[list[Any]]]:
    res = scope.search(request.user, form.query(), limit=EXPORT_MAX, page=1,
                       sort=form.sort,
                       stores=form.stores(), perm="export")
    header = [_("Date"), _("Order"), _("Plate"), _("VIN"), _("Model"), _("Customer"), _("Phone"), _("Advisor"),
              _("Mileage (km)"), _("Labour"), _("Parts"), _("Total"), _("Store"), _("Needs review"), _("Document id")]
    rows = []
    for h in res.hits:
        f = h.fields
        rows.append([f.get("date") or "", cell(f.get("order_no") or ""), cell(f.get("plate") or ""),
                     cell(f.get("vin") or ""), cell(f.get("model") or ""), cell(f.get("customer") or ""),
                     cell(f.get("phone") or ""), cell(f.get("advisor") or ""),
                     f.get("mileage_km") if f.get("mileage_km") is not None else "",
                     f.get("labor") or "", f.get("parts") or "", f.get("total") or "",
                     scope.hit_store(f.get("store")), _("yes") if f.get("needs_review") else "", h.id])
    return header, rows


@login_required
@require_GET
def search_export(request: HttpRequest, fmt: str) -> HttpResponse:
    scope.require(request.user, "export")
    form = SearchForm.from_request(request)
    if fmt not in ("csv", "xlsx"):
        raise Http404(fmt)
    try:
        header, rows = _export_rows(request, form)
    except (QueryError, ValueError) as exc:
        from web.errors import error_page

        return error_page(request, 400, _("Malformed query"), _("The query cannot be understood: %(reason)s")
                          % {"reason": exc})
    _audit(request, "export", "search", query=form.query(), store=form.store, format=fmt, rows=len(rows))
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
        w = csv.writer(buf)
        w.writerow(header)
        w.writerows(rows)
        resp = HttpResponse(buf.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = 'attachment; filename="woa-search.csv"'
        return resp
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("search")
    ws.append(header)
    for r in rows:
        out = list(r)
        for i in (9, 10, 11):  # money as numbers, so a spreadsheet can sum them
            if out[i] != "":
                with contextlib.suppress(ValueError):
                    out[i] = float(str(out[i]).replace(",", ""))
        ws.append(out)
    data = io.BytesIO()
    wb.save(data)
    resp = HttpResponse(data.getvalue(),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = 'attachment; filename="woa-search.xlsx"'
    return resp



# -- document ---------------------------------------------------------------------------------
def _field_rows(doc: Document, threshold: float) -> list[dict[str, Any]]:
    rows = []
    for name in CANONICAL_FIELDS:
        fv = doc.fields.get(name)
        page = fv.page if fv and fv.page else None
        box = None
        if fv and fv.box and page and 1 <= page <= len(doc.pages):
            p = doc.pages[page - 1]
            x0, y0, x1, y1 = fv.box
            box = {"left": round(100 * x0 / p.width, 3), "top": round(100 * y0 / p.height, 3),
                   "width": round(100 * (x1 - x0) / p.width, 3), "height": round(100 * (y1 - y0) / p.height, 3)}
        value = fv.value if fv else None
        shown = format_yuan(value) if name in MONEY_FIELDS and value else (value or "")
        rows.append({"name": name, "label": FIELD_LABELS[name], "value": value, "shown": shown,
                     "confidence": fv.confidence if fv else None, "valid": fv.valid if fv else False,
                     "doubtful": fv is None or fv.confidence < threshold, "note": fv.note if fv else "",
                     "source": fv.source if fv else "", "page": page, "box": box})
    return rows


@login_required
@require_GET
def document_page(request: HttpRequest, doc_id: str) -> HttpResponse:
    doc = scope.get_document(request.user, doc_id)
    settings = scope.settings()
    _audit(request, "view", doc.id)
    record_access(scope.archive(), doc.id)  # for tier_by = "last_access"
    ctx = {
        "doc": doc,
        "store": scope.store_of(doc),
        "fields": _field_rows(doc, settings.review_threshold),
        "pages": [{"no": p.page_no, "width": p.width, "height": p.height} for p in doc.pages],
        "widths": pages.WIDTHS,
        "items": doc.items,
        "history": list(reversed(doc.history)),
        "can_download": scope.access(request.user).can("download", scope.store_of(doc)),
        "can_review": scope.access(request.user).can("review", scope.store_of(doc)),
    }
    return render(request, "web/document.html", ctx)


@login_required
@require_GET
def page_image(request: HttpRequest, doc_id: str, page_no: int, width: int) -> HttpResponse:
    doc = scope.get_document(request.user, doc_id)
    if width not in pages.WIDTHS or not 1 <= page_no <= len(doc.pages):
        raise Http404("no such page")
    try:
        data = pages.page_jpeg(scope.archive(), doc, page_no, width)
    except (OSError, ValueError) as exc:
        log.error("page %d of %s not rendered: %s", page_no, doc.id, exc)
        raise Http404("page not available") from exc
    resp = HttpResponse(data, content_type="image/jpeg")
    resp["Cache-Control"] = "private, max-age=86400"
    return resp


@login_required
@require_GET
def download(request: HttpRequest, doc_id: str, kind: str) -> HttpResponse:
    if kind not in ("original", "pdf"):
        raise Http404(kind)
    doc, fh = scope.document_file(request.user, doc_id, kind)
    _audit(request, "download", doc.id, file=kind)
    if kind == "pdf":
        name = f"{Path(doc.source_name).stem or doc.id}.pdf"
        ctype = "application/pdf"
    else:
        name = doc.source_name or Path(doc.original).name
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(fh, as_attachment=True, filename=name, content_type=ctype)  # Django closes fh


# -- vehicle ----------------------------------------------------------------------------------
@login_required
@require_GET
def vehicle_page(request: HttpRequest, key: str) -> HttpResponse:
    scope.require(request.user, "view")
    try:
        entries = scope.vehicle_history(request.user, key)
    except ValueError as exc:
        from web.errors import error_page

        return error_page(request, 400, _("Malformed query"), str(exc))
    except IndexUnavailable:
        log.exception("search index unavailable")
        from web.errors import error_page

        return error_page(request, 503, _("Search unavailable"),
                          _("The search index is not available; ask the administrator to run 'woa reindex'."))
    _audit(request, "history", key, orders=len(entries))
    vins = sorted({e.vin for e in entries if e.vin})
    plates: dict[str, list[str]] = {}
    for e in entries:
        if e.plate:
            plates.setdefault(e.plate, []).append(e.date or "")
    plate_rows = [{"plate": p, "first": min(d for d in ds if d) if any(ds) else "",
                   "last": max(d for d in ds if d) if any(ds) else "", "orders": len(ds)}
                  for p, ds in plates.items()]
    plate_rows.sort(key=lambda r: str(r["first"] or "9999"))
    models = sorted({e.model for e in entries if e.model})
    chart = [[e.date, e.mileage_km] for e in entries if e.date and e.mileage_km is not None]
    rows = [{"e": e, "work": "、".join(i["name"] for i in e.items if i.get("kind") != "part"),
             "parts": "、".join(i["name"] for i in e.items if i.get("kind") == "part"),
             "store": scope.hit_store(e.store)} for e in entries]
    total = sum(Decimal(e.total) for e in entries if e.total)
    ctx = {"key": key, "entries": rows, "vins": vins, "plates": plate_rows, "models": models,
           "chart": chart, "total": str(total) if entries else ""}
    return render(request, "web/vehicle.html", ctx)
