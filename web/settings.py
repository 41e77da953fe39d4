"""Django settings, derived from the woa settings that ``web.bootstrap.setup`` put in place.

Without them (a test run with ``DJANGO_SETTINGS_MODULE=web.settings``) the woa settings are loaded
the usual way (TOML, ``WOA_*``) and the secret key is a random one for this process only.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from core.settings import Settings, load_settings
from web.api.settings import INSTALLED_APPS as API_APPS
from web.api.settings import REST_FRAMEWORK, SPECTACULAR_SETTINGS  # noqa: F401  (Django reads them)
from web.bootstrap import SETTINGS_ENV, secret_key_path

BASE_DIR = Path(__file__).resolve().parent


def _woa_settings() -> Settings:
    raw = os.environ.get(SETTINGS_ENV)
    return Settings(**json.loads(raw)) if raw else load_settings()


def database_config(woa: Settings) -> dict[str, Any]:
    """Django DATABASES['default'] from ``database_url`` ("" = SQLite in the archive)."""
    url = woa.database_url.strip()
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(woa.archive_dir / "db" / "web.sqlite3"),
            # IMMEDIATE: a writing transaction takes the write lock at its start (no deadlock
            # between two upgrading readers); WAL: readers never wait for the writer.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20,
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        }
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"database_url {parts.scheme}://…: only postgresql:// (or empty for SQLite) is supported")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
    }


def _secret_key(woa: Settings) -> str:
    try:
        return secret_key_path(woa).read_text(encoding="utf-8").strip()
    except OSError:
        return secrets.token_urlsafe(50)  # not bootstrapped: sessions last as long as this process


WOA = _woa_settings()

SECRET_KEY = _secret_key(WOA)
DEBUG = WOA.web_debug
ALLOWED_HOSTS = list(WOA.web_allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "web.accounts",
    "web.audit",
    "web.documents",
    "web.lifecycle",
    *API_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "web.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "web.locale_middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context.navigation",
            ],
            "libraries": {"woa": "web.templatetags.woa"},
        },
    },
]

DATABASES = {"default": database_config(WOA)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 first: new and changed passwords are hashed with it; the others only verify old hashes.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "search"

# Sessions and cookies
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = WOA.web_session_seconds
SESSION_SAVE_EVERY_REQUEST = True  # the expiry counts from the last request (idle time)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SECURE = WOA.web_secure_cookies
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "woa_session"
CSRF_COOKIE_SECURE = WOA.web_secure_cookies
CSRF_COOKIE_HTTPONLY = True  # forms carry the token; scripts read it from the page
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_NAME = "woa_csrftoken"
CSRF_FAILURE_VIEW = "web.errors.csrf_failure"
LANGUAGE_COOKIE_NAME = "woa_language"
LANGUAGE_COOKIE_SECURE = WOA.web_secure_cookies
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto (docs/web.md).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Uploads: files are streamed to disk above 2.5 MB; the size limit is checked by the upload view.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 100

# Chinese first
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
USE_THOUSAND_SEPARATOR = False
FORMAT_MODULE_PATH = ["web.formats"]

STATIC_URL = "/static/"  # served from web/static by web.urls (or by the reverse proxy, docs/web.md)
STATIC_DIR = BASE_DIR / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"},
                "web": {"handlers": ["console"], "level": "INFO"}},
}
