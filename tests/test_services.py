"""The test servers of tests/services.py: a real PostgreSQL on loopback, gone afterwards."""

from __future__ import annotations

import socket

import pytest

from tests.services import pg_bin_dir, postgres_server

pytestmark = pytest.mark.slow


def test_postgres_server_runs_on_loopback_and_is_removed_after() -> None:
    assert pg_bin_dir() is not None, "Debian's postgresql is not installed (make setup)"
    import psycopg

    with postgres_server() as pg:
        assert pg.url.startswith("postgresql://woa:") and "@127.0.0.1:" in pg.url
        with psycopg.connect(pg.url) as con:
            con.execute("CREATE TABLE t (v text)")
            con.execute("INSERT INTO t VALUES ('车架号')")
            assert con.execute("SELECT v FROM t").fetchone() == ("车架号",)
            addr = con.execute("SELECT inet_server_addr()::text").fetchone()
        assert addr is not None and addr[0].startswith("127.0.0.1")
        with pytest.raises(psycopg.OperationalError):  # password authentication, not trust
            psycopg.connect(pg.url.replace(pg.password, "wrong"), connect_timeout=5)
        other = pg.create_database("second")
        with psycopg.connect(other) as con:
            assert con.execute("SELECT current_database()").fetchone() == ("second",)
        port, directory = pg.port, pg.directory
    assert not directory.exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
