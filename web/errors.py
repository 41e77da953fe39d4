"""Error pages in the user's language; never a stack trace (DEBUG is off in production)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "web/error.html", {"status": status, "title": title, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400, _("Bad request"), _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403, _("Not allowed"), _("Your role does not allow this page."))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404, _("Not found"), _("There is no such page or document."))


def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500, _("Server error"),
                      _("Something went wrong on the server. The error was logged; please try again."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(request, 403, _("Form expired"),
                      _("The form was not accepted (its security token is missing or expired). "
                        "Reload the page and try again."))
