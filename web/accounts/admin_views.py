"""Admin pages: users and their store roles, stores, the audit trail."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from web.documents import scope


@login_required
def admin_home(request: HttpRequest) -> HttpResponse:
    acc = scope.access(request.user)
    if not (acc.can("admin") or acc.can("audit")):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("admin")
    return render(request, "web/admin/home.html", {})


@login_required
def users(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "admin")
    return render(request, "web/admin/home.html", {})


@login_required
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    scope.require(request.user, "admin")
    return render(request, "web/admin/home.html", {})


@login_required
def stores(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "admin")
    return render(request, "web/admin/home.html", {})


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    scope.require(request.user, "audit")
    return render(request, "web/admin/home.html", {})
