"""The clerk's and the manager's pages: review queue, upload, statistics."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from web.documents import scope


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "review")
    hits, total = scope.review_queue(request.user)
    return render(request, "web/review_queue.html", {"hits": hits, "total": total})


@login_required
def review_document(request: HttpRequest, doc_id: str) -> HttpResponse:
    doc = scope.get_document(request.user, doc_id, "review")
    return render(request, "web/review.html", {"doc": doc})


@login_required
def upload_page(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "upload")
    return render(request, "web/upload.html", {})


@login_required
def upload_file(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "upload")
    return HttpResponse(status=501)


@login_required
def statistics_page(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "stats")
    return render(request, "web/statistics.html", {})


@login_required
def statistics_export(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "export")
    return HttpResponse(status=501)
