"""API errors as JSON: ``{"detail": "..."}`` with the right status, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

log = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    response = drf_handler(exc, context)
    if response is not None:
        return response
    view = context.get("view")
    log.exception("API error in %s", type(view).__name__ if view is not None else "?", exc_info=exc)
    return Response({"detail": "Server error; it was logged."}, status=500)
