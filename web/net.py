"""The client address of a request (for the audit trail and log-in throttling)."""

from __future__ import annotations

from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR; behind the reverse proxy of docs/web.md gunicorn takes it from
    X-Forwarded-For only for the proxy's address (``--forwarded-allow-ips``)."""
    return str(request.META.get("REMOTE_ADDR") or "-")
