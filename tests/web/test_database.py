"""Which database the web tests ran on (``WOA_TEST_DB``): the PostgreSQL run must really be one."""

from __future__ import annotations

from typing import Any

from tests.web.helpers import TEST_DB


def test_the_configured_database_is_the_one_in_use(db: Any) -> None:
    from django.db import connection

    assert connection.vendor == TEST_DB
    if TEST_DB == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT current_database(), inet_server_addr()::text")
            name, addr = cur.fetchone()
        assert name == "test_woa" and addr.startswith("127.0.0.1")
