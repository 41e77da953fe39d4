"""The WSGI application of a Django that ``web.bootstrap.setup`` configured already (``woa serve``)."""

from __future__ import annotations

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
