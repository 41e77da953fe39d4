from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "web.api"
    label = "woa_api"
    verbose_name = "woa REST API"
