"""URL map of the web application."""

from __future__ import annotations

from django.urls import include, path, re_path
from django.views.i18n import set_language
from django.views.static import serve

from web.accounts import views as accounts
from web.settings import STATIC_DIR

handler400 = "web.errors.bad_request"
handler403 = "web.errors.permission_denied"
handler404 = "web.errors.not_found"
handler500 = "web.errors.server_error"

urlpatterns = [
    path("login/", accounts.login_view, name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("i18n/setlang/", set_language, name="set_language"),
    re_path(r"^static/(?P<path>.*)$", serve, {"document_root": STATIC_DIR}),
    path("admin/", include("web.accounts.urls")),
    path("lifecycle/", include("web.lifecycle.urls")),
    path("api/", include("web.api.urls")),
    path("", include("web.documents.urls")),
]
