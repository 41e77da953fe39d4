"""Throttling of failed log-ins: per user name and (more loosely) per client address."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.settings import Settings
from web.accounts.models import LoginFailure

ADDRESS_FACTOR = 4  # an address may fail this many times more (several users behind one NAT)


def blocked(settings: Settings, username: str, address: str) -> bool:
    """Too many recent failures for this user name or address: refuse without checking the password."""
    since = timezone.now() - timedelta(seconds=settings.web_login_window_seconds)
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=username.lower()).count() >= settings.web_login_attempts:
        return True
    return recent.filter(address=address).count() >= settings.web_login_attempts * ADDRESS_FACTOR


def failed(username: str, address: str) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], address=address[:64])


def succeeded(username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()
