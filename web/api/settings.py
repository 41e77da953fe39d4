"""Django settings of the REST API, imported by ``web.settings``."""

from __future__ import annotations

from typing import Any

INSTALLED_APPS = ["rest_framework", "rest_framework.authtoken", "drf_spectacular", "web.api"]

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",  # first: 401 + WWW-Authenticate: Token
        "rest_framework.authentication.SessionAuthentication",  # the pages' session (CSRF enforced)
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "EXCEPTION_HANDLER": "web.api.errors.exception_handler",
}

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "woa API",
    "DESCRIPTION": "Work-order archive: search, documents, fields, corrections, upload, vehicle history and "
                   "statistics. Authenticate with `Authorization: Token <key>` (POST /api/token/).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
}
