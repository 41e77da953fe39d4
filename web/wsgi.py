"""WSGI entry point: ``web.wsgi:application`` (``woa serve`` runs it under gunicorn)."""

from __future__ import annotations

from core.settings import load_settings
from web.bootstrap import setup

setup(load_settings())

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after Django is configured)

application = get_wsgi_application()
