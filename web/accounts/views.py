"""Log-in (throttled, audited) and log-out."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from web import audit
from web.accounts import throttle
from web.bootstrap import current_settings
from web.net import client_address

SEEN_COOKIE = "woa_had_session"  # tells an expired session from a first visit (no secret in it)


class LoginForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    password = forms.CharField(label=gettext_lazy("Password"), widget=forms.PasswordInput, max_length=1024)


def _next_url(request: HttpRequest) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return nxt
    return reverse("search")


@never_cache
@csrf_protect
def login_view(request: HttpRequest) -> HttpResponse:
    settings = current_settings()
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_next_url(request))
    form = LoginForm(request.POST or None)
    status = 200
    error = ""
    expired = request.method == "GET" and bool(request.GET.get("next")) and SEEN_COOKIE in request.COOKIES
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        address = client_address(request)
        if throttle.blocked(settings, username, address):
            audit.record(username, "login_throttled", detail={}, address=address)
            error = _("Too many failed log-ins. Wait %(minutes)d minutes and try again.") % {
                "minutes": max(1, settings.web_login_window_seconds // 60)}
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                throttle.failed(username, address)
                audit.record(username, "login_failed", address=address)
                error = _("Wrong user name or password.")
                status = 200
            else:
                login(request, user)
                throttle.succeeded(username)
                audit.record(user.get_username(), "login", address=address)
                response = HttpResponseRedirect(_next_url(request))
                response.set_cookie(SEEN_COOKIE, "1", max_age=400 * 86400, httponly=True,
                                    secure=settings.web_secure_cookies, samesite="Lax")
                return response
    return render(request, "registration/login.html",
                  {"form": form, "error": error, "expired": expired, "next": request.GET.get("next", "")},
                  status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit.record(request.user.get_username(), "logout", address=client_address(request))
    logout(request)
    response = HttpResponseRedirect(reverse("login"))
    response.delete_cookie(SEEN_COOKIE)
    return response
