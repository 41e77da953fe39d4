"""API views. Like the pages, every document, hit, history and count comes through ``scope``:
a document of a store the caller may not see is a 404, whether asked by id, prefix or search."""

from __future__ import annotations

import json
import logging
import mimetypes
from datetime import date
from pathlib import Path
from typing import Any

from django.contrib.auth import authenticate
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import app.documents
from core.archive import UnknownDocument
from core.models import CANONICAL_FIELDS, Document
from index.query import QueryError, day_bound
from index.store import IndexUnavailable
from web import audit
from web.accounts import throttle
from web.api import serializers as s
from web.documents import scope
from web.net import client_address

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100


class ServiceUnavailable(APIException):
    status_code = 503
    default_detail = "The search index is not available; ask the administrator to run 'woa reindex'."


def _audit(request: Request, action: str, target: str = "", **detail: Any) -> None:
    audit.record(request.user.get_username(), action, target, {"via": "api", **detail}, client_address(request))


def _paging(request: Request) -> tuple[int, int]:
    try:
        page = max(1, int(request.query_params.get("page", "1")))
        size = int(request.query_params.get("page_size", "20"))
    except ValueError as exc:
        raise ValidationError({"detail": "page and page_size must be whole numbers"}) from exc
    return page, min(max(1, size), MAX_PAGE_SIZE)


def _links(request: Request, page: int, pages: int) -> tuple[str | None, str | None]:
    def at(n: int) -> str:
        params = request.query_params.copy()
        params["page"] = str(n)
        return request.build_absolute_uri(request.path) + "?" + params.urlencode()

    return (at(page + 1) if page < pages else None), (at(page - 1) if page > 1 else None)


def _date_param(request: Request, name: str, end: bool) -> date | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        key = day_bound(raw, end=end)
    except (QueryError, ValueError) as exc:
        raise ValidationError({name: f"not a date: {raw!r} (2024-03-15, 2024-03 or 2024)"}) from exc
    return date(key // 10000, key // 100 % 100, key % 100)


def _hit(request: Request, h: Any) -> dict[str, Any]:
    f = h.fields
    return {"id": h.id, **{k: f.get(k) for k in ("date", "order_no", "plate", "vin", "model", "customer", "phone",
                                                 "advisor", "mileage_km", "labor", "parts", "total")},
            "needs_review": bool(f.get("needs_review")), "store": scope.hit_store(f.get("store")),
            "snippet": h.marked("<mark>", "</mark>"),
            "url": request.build_absolute_uri(reverse("api_document", args=[h.id]))}


def _fields(doc: Document, threshold: float) -> dict[str, Any]:
    out = {}
    for name in CANONICAL_FIELDS:
        fv = doc.fields.get(name)
        if fv is None:
            continue
        out[name] = {"value": fv.value, "confidence": round(fv.confidence, 3), "valid": fv.valid,
                     "doubtful": fv.confidence < threshold, "page": fv.page or None,
                     "box": list(fv.box) if fv.box else None, "note": fv.note, "source": fv.source}
    return out


_DOC_ID = OpenApiParameter("doc_id", OpenApiTypes.STR, OpenApiParameter.PATH,
                           description="document id, or a unique prefix of at least 4 characters")


# -- authentication -------------------------------------------------------------------------------
class TokenView(APIView):
    """Exchange a user name and password for the user's API token (throttled like the log-in page)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=s.TokenRequest, responses={200: s.TokenResponse}, auth=[])
    def post(self, request: Request) -> Response:
        body = s.TokenRequest(data=request.data)
        body.is_valid(raise_exception=True)
        username, password = body.validated_data["username"], body.validated_data["password"]
        address = client_address(request)
        settings = scope.settings()
        if throttle.blocked(settings, username, address):
            audit.record(username, "login_blocked", "api", {"via": "api"}, address)
            return Response({"detail": "Too many failed log-ins; try again later."},
                            status=status.HTTP_429_TOO_MANY_REQUESTS)
        user = authenticate(request._request, username=username, password=password)
        if user is None or not user.is_active:
            throttle.failed(username, address)
            audit.record(username, "login_failed", "api", {"via": "api"}, address)
            return Response({"detail": "Wrong user name or password."}, status=status.HTTP_400_BAD_REQUEST)
        throttle.succeeded(username)
        token, _ = Token.objects.get_or_create(user=user)
        audit.record(user.get_username(), "login", "api", {"via": "api", "token": "issued"}, address)
        return Response({"token": token.key, "username": user.get_username()})


class RevokeTokenView(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        """Revoke the caller's API token."""
        Token.objects.filter(user=request.user).delete()
        _audit(request, "token_revoked", request.user.get_username())
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- search ---------------------------------------------------------------------------------------
class SearchView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="anything `woa search` takes: VIN or its last "
                             "6/8 characters, plate with or without the dot, order number, customer, phone, "
                             "Chinese words, date:, total:, needs_review:yes …"),
            OpenApiParameter("from", OpenApiTypes.STR, description="first date (2024-03-15, 2024-03, 2024)"),
            OpenApiParameter("to", OpenApiTypes.STR, description="last date"),
            OpenApiParameter("store", OpenApiTypes.STR, description="one store code (default: all of yours)"),
            OpenApiParameter("review", OpenApiTypes.BOOL, description="only documents that need review"),
            OpenApiParameter("sort", OpenApiTypes.STR, enum=["relevance", "date"]),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT, description=f"1-{MAX_PAGE_SIZE} (default 20)"),
        ],
        responses={200: s.SearchResponse},
    )
    def get(self, request: Request) -> Response:
        """Search the documents of your stores."""
        from web.documents.views import SearchForm

        scope.require(request.user, "view")
        form = SearchForm.from_request(request._request)
        page, size = _paging(request)
        try:
            query = form.query()
            res = scope.search(request.user, query, limit=size, page=page, sort=form.sort,
                               stores=form.stores())
        except (QueryError, ValueError) as exc:
            raise ValidationError({"detail": f"The query cannot be understood: {exc}"}) from exc
        except IndexUnavailable as exc:
            log.exception("search index unavailable")
            raise ServiceUnavailable from exc
        nxt, prev = _links(request, res.page, res.pages)
        return Response({"query": query, "count": res.total, "page": res.page, "pages": res.pages,
                         "page_size": size, "next": nxt, "previous": prev,
                         "results": [_hit(request, h) for h in res.hits]})


# -- one document ---------------------------------------------------------------------------------
class DocumentView(APIView):
    @extend_schema(parameters=[_DOC_ID], responses={200: s.DocumentSerializer})
    def get(self, request: Request, doc_id: str) -> Response:
        """A document: fields (value, confidence, page and box), repair items, pages, review history."""
        doc = scope.get_document(request.user, doc_id)
        _audit(request, "view", doc.id)
        settings = scope.settings()
        return Response({
            "id": doc.id, "store": scope.store_of(doc), "source_name": doc.source_name, "sha256": doc.sha256,
            "ingested_at": doc.ingested_at, "needs_review": doc.needs_review, "confidence": round(doc.confidence, 3),
            "fields": _fields(doc, settings.review_threshold), "items": doc.items,
            "pages": [{"no": p.page_no, "width": p.width, "height": p.height, "dpi": p.dpi} for p in doc.pages],
            "history": doc.history,
            "files": {kind: request.build_absolute_uri(reverse("api_file", args=[doc.id, kind]))
                      for kind in ("original", "pdf")},
        })


class FieldsView(APIView):
    @extend_schema(parameters=[_DOC_ID], responses={200: s.FieldSerializer(many=True)})
    def get(self, request: Request, doc_id: str) -> Response:
        """The extracted fields of a document, by name."""
        doc = scope.get_document(request.user, doc_id)
        _audit(request, "view", doc.id, part="fields")
        return Response(_fields(doc, scope.settings().review_threshold))


class CorrectionsView(APIView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(parameters=[_DOC_ID], responses={200: s.CorrectionResponse(many=True)})
    def get(self, request: Request, doc_id: str) -> Response:
        """The review history of a document (every correction: field, old, new, user, time)."""
        doc = scope.get_document(request.user, doc_id)
        _audit(request, "view", doc.id, part="corrections")
        return Response(doc.history)

    @extend_schema(parameters=[_DOC_ID], request=s.CorrectionRequest, responses={201: s.CorrectionResponse})
    def post(self, request: Request, doc_id: str) -> Response:
        """Correct one field, as `woa review set` does: recorded in the sidecar's history, then indexed."""
        doc = scope.get_document(request.user, doc_id, "review")
        body = s.CorrectionRequest(data=request.data)
        body.is_valid(raise_exception=True)
        field, value = body.validated_data["field"], body.validated_data["value"]
        try:
            done = app.documents.correct_field(scope.archive(), doc.id, field, value, scope.settings(),
                                               user=request.user.get_username())
        except app.documents.ReviewError as exc:
            raise ValidationError({"value": str(exc)}) from exc
        except UnknownDocument as exc:  # removed meanwhile
            raise Http404("no such document") from exc
        entry = done.entry
        _audit(request, "correct", doc.id, field=field, old=entry.get("old"), new=entry.get("new"))
        return Response({"id": doc.id, **{k: entry.get(k) for k in ("field", "old", "new", "at", "user")},
                         "valid": done.value.valid, "needs_review": done.doc.needs_review},
                        status=status.HTTP_201_CREATED)


class FileView(APIView):
    @extend_schema(parameters=[_DOC_ID, OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                         enum=["original", "pdf"])],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, doc_id: str, kind: str) -> FileResponse:
        """Download the original scan or the PDF/A copy."""
        if kind not in ("original", "pdf"):
            raise Http404(kind)
        doc, fh = scope.document_file(request.user, doc_id, kind)  # decrypted if encrypted at rest
        _audit(request, "download", doc.id, file=kind)
        if kind == "pdf":
            name, ctype = f"{Path(doc.source_name).stem or doc.id}.pdf", "application/pdf"
        else:
            name = doc.source_name or Path(doc.original).name
            ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return FileResponse(fh, as_attachment=True, filename=name, content_type=ctype)  # Django closes fh


# -- vehicle history, review queue, statistics ------------------------------------------------------
class HistoryView(APIView):
    @extend_schema(parameters=[OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH,
                                                description="VIN (or its last 6/8 characters) or plate"),
                               OpenApiParameter("page", OpenApiTypes.INT),
                               OpenApiParameter("page_size", OpenApiTypes.INT)],
                   responses={200: s.HistoryResponse})
    def get(self, request: Request, key: str) -> Response:
        """Every order of one vehicle by date, plates linked through the VIN (your stores only)."""
        scope.require(request.user, "view")
        try:
            entries = scope.vehicle_history(request.user, key)
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        except IndexUnavailable as exc:
            raise ServiceUnavailable from exc
        _audit(request, "history", key, orders=len(entries))
        page, size = _paging(request)
        pages = max(1, -(-len(entries) // size))
        nxt, prev = _links(request, page, pages)
        chunk = entries[(page - 1) * size: page * size]
        return Response({"key": key, "count": len(entries), "page": page, "pages": pages, "page_size": size,
                         "next": nxt, "previous": prev,
                         "results": [{**e.to_dict(), "store": scope.hit_store(e.store),
                                      "url": request.build_absolute_uri(reverse("api_document", args=[e.id]))}
                                     for e in chunk]})


class ReviewQueueView(APIView):
    @extend_schema(parameters=[OpenApiParameter("page", OpenApiTypes.INT),
                               OpenApiParameter("page_size", OpenApiTypes.INT)],
                   responses={200: s.ReviewResponse})
    def get(self, request: Request) -> Response:
        """Documents whose fields are doubtful, oldest first (stores where you may review)."""
        scope.require(request.user, "review")
        page, size = _paging(request)
        try:
            hits, total = scope.review_queue(request.user, limit=page * size)
        except IndexUnavailable as exc:
            raise ServiceUnavailable from exc
        pages = max(1, -(-total // size))
        nxt, prev = _links(request, page, pages)
        return Response({"count": total, "page": page, "pages": pages, "page_size": size, "next": nxt,
                         "previous": prev, "results": [_hit(request, h) for h in hits[(page - 1) * size:]]})


class StatisticsView(APIView):
    @extend_schema(parameters=[OpenApiParameter("from", OpenApiTypes.STR), OpenApiParameter("to", OpenApiTypes.STR),
                               OpenApiParameter("store", OpenApiTypes.STR),
                               OpenApiParameter("top", OpenApiTypes.INT, description="1-100 (default 10)")],
                   responses={200: s.StatisticsResponse})
    def get(self, request: Request) -> Response:
        """Orders and revenue per month (labour, parts), top repairs and models, per advisor and store."""
        scope.require(request.user, "stats")
        try:
            top = min(max(1, int(request.query_params.get("top", "10"))), 100)
        except ValueError as exc:
            raise ValidationError({"top": "a whole number"}) from exc
        store = request.query_params.get("store", "").strip()
        try:
            st = scope.stats(request.user, _date_param(request, "from", end=False),
                             _date_param(request, "to", end=True), top, stores=[store] if store else None)
        except IndexUnavailable as exc:
            raise ServiceUnavailable from exc
        _audit(request, "statistics", "api", **{k: v for k, v in request.query_params.items()})
        return Response(st.to_dict())


# -- upload -----------------------------------------------------------------------------------------
class UploadView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": s.UploadRequest}, responses={200: s.UploadResult})
    def post(self, request: Request) -> Response:
        """Archive one scan (multipart field ``file``) into a store (``store``; default: your only
        one), through the upload page's own code path: the same checks (size, type, file name), the
        same ingest, the same audit row. One file per request, as the upload page sends them."""
        from web.documents.work import upload_file

        scope.require(request.user, "upload")
        if len(request.FILES.getlist("file")) > 1:
            raise ValidationError({"file": "one file per request"})
        resp = upload_file(request._request)  # DRF has put the authenticated user on the request
        try:
            body = json.loads(resp.content)
        except ValueError:
            body = {"detail": resp.content.decode("utf-8", "replace")[:200] or resp.reason_phrase}
        return Response(body, status=resp.status_code)
