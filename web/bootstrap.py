"""Configure Django from the one ``core.settings.Settings`` object.

``setup(settings)`` puts the settings where ``web.settings`` finds them (one JSON value in the
process environment, inherited by gunicorn's workers), creates the database folder and the secret
key file (0600) on first use, calls ``django.setup()`` and, by default, applies migrations. It is
idempotent: a second call in the same process does nothing.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from core.settings import Settings

log = logging.getLogger(__name__)

SETTINGS_ENV = "WOA_WEB_SETTINGS_JSON"


def secret_key_path(settings: Settings) -> Path:
    return settings.web_secret_key_file or settings.archive_dir / "db" / "secret_key"


def ensure_secret_key(path: Path) -> str:
    """The secret key in ``path``, created (0600, random) if missing."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    log.info("created secret key %s", path)
    return key


def setup(settings: Settings, migrate: bool = True) -> None:
    """Configure and start Django for ``settings`` (idempotent within a process)."""
    import django
    from django.apps import apps

    if apps.ready:
        return
    if not settings.database_url:
        (settings.archive_dir / "db").mkdir(parents=True, exist_ok=True)
    ensure_secret_key(secret_key_path(settings))
    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    os.environ["DJANGO_SETTINGS_MODULE"] = "web.settings"
    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)


def current_settings() -> Settings:
    """The woa settings the running Django was configured with."""
    from django.conf import settings as dj

    woa: Settings = dj.WOA
    return woa
