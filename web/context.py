"""Template context for every page: what the navigation shows for this user."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    from web.documents.scope import access

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can": {}}
    acc = access(user)
    return {"can": {p: acc.can(p) for p in
                    ("view", "download", "review", "upload", "stats", "export", "audit", "admin", "lifecycle")}}
