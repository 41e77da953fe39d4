"""Fixtures of the web tests: the ingested samples split over two stores, users of every role.

The session's ingested archive (tests/conftest.py) is copied once and its documents given to
stores A and B alternately (sidecar rewritten, index rebuilt) — what `woa ingest --store` does.
Tests that change documents get a fresh copy of their own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import IngestedArchive, make_settings
from tests.web.helpers import PASSWORD, STORES, TEST_DB, WebArchive, two_store_copy


@pytest.fixture(scope="session")
def web_archive_session(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> WebArchive:
    # WOA_WEB_TEST_ARCHIVE: an archive of the samples ingested before (woa ingest samples), to
    # iterate on the web tests without the OCR of the session fixture
    given = os.environ.get("WOA_WEB_TEST_ARCHIVE")
    if given:
        src = Path(given)
    else:
        ingested: IngestedArchive = request.getfixturevalue("ingested_archive")
        src = ingested.archive.root
    return two_store_copy(src, tmp_path_factory.mktemp("web-archive"))


@pytest.fixture
def web_archive(web_archive_session: WebArchive, settings: Any) -> WebArchive:
    """The shared two-store archive (do not change its documents), configured for Django."""
    settings.WOA = web_archive_session.settings
    return web_archive_session


@pytest.fixture
def fresh_archive(web_archive_session: WebArchive, tmp_path: Path, settings: Any) -> WebArchive:
    """A private copy of the two-store archive, for tests that correct or upload documents."""
    wa = two_store_copy(web_archive_session.root, tmp_path / "archive", web_archive_session.store_of)
    settings.WOA = wa.settings
    return wa


@pytest.fixture
def stores(db: Any) -> dict[str, Any]:
    from web.accounts.models import Store

    return {code: Store.objects.create(code=code, name=name) for code, name in STORES.items()}


@pytest.fixture
def make_user(db: Any, stores: dict[str, Any]) -> Any:
    from django.contrib.auth import get_user_model

    from web.accounts.models import Membership

    def make(name: str, role: str | None = None, store_codes: tuple[str, ...] = ("A",), superuser: bool = False) -> Any:
        user = get_user_model().objects.create_user(name, password=PASSWORD)
        if superuser:
            user.is_superuser = True
            user.save()
        for code in store_codes if role else ():
            Membership.objects.create(user=user, store=stores[code], role=role)
        return user

    return make


@pytest.fixture
def login(client: Any) -> Iterator[Any]:
    """``login(user)`` logs the test client in through the real log-in form."""

    def do(user: Any, password: str = PASSWORD) -> Any:
        resp = client.post("/login/", {"username": user.username, "password": password})
        assert resp.status_code == 302, resp.content[:500]
        return client

    yield do


# -- PostgreSQL: WOA_TEST_DB=postgresql runs the web tests on a real PostgreSQL server ------------
@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> Iterator[None]:
    """With ``WOA_TEST_DB=postgresql`` (``make test-web-postgresql``), the test database lives on a
    PostgreSQL server started for the session (tests/services.py), configured through the same
    ``database_url`` parsing as production; otherwise pytest-django's SQLite test database."""
    if TEST_DB != "postgresql":
        yield
        return
    from django.conf import settings as dj
    from django.db import connections

    from tests.services import postgres_server
    from web.settings import database_config

    with postgres_server() as pg:
        dj.DATABASES["default"] = {**database_config(make_settings(Path("."), database_url=pg.url)),
                                   "TEST": {"NAME": "test_woa"}}
        connections.close_all()
        connections.__dict__.pop("settings", None)  # re-read DATABASES on the next connection
        connections._settings = dj.DATABASES  # type: ignore[attr-defined]
        for alias in list(connections):
            with contextlib.suppress(AttributeError):
                del connections[alias]
        yield
