"""The audit trail: hash chain, tamper detection (in the database directly), the CLI."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WOA = [sys.executable, "-m", "woa.cli"]


@pytest.mark.django_db
def test_chain_detects_an_edited_and_a_deleted_row() -> None:
    from django.db import connection

    from web import audit
    from web.audit.models import AppendOnly, AuditEntry

    rows = [audit.record("li", "view", f"doc{n}", {"n": n}, "10.0.0.1") for n in range(6)]
    assert audit.verify() == []
    assert rows[1].prev_hash == rows[0].hash
    with pytest.raises(AppendOnly):
        rows[2].save()
    with pytest.raises(AppendOnly):
        rows[2].delete()
    table = AuditEntry._meta.db_table
    with connection.cursor() as cur:  # what someone with database access might do
        cur.execute(f"UPDATE {table} SET actor = %s WHERE id = %s", ["wang", rows[2].id])
    assert audit.verify() == [rows[2].id]
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {table} WHERE id = %s", [rows[4].id])
    assert audit.verify() == [rows[2].id, rows[5].id]  # the row after the deleted one loses its link


@pytest.mark.django_db
def test_export_jsonl_writes_every_row() -> None:
    import io

    from web import audit

    audit.record("li", "login", address="127.0.0.1")
    audit.record("li", "export", "search", {"query": "机油", "rows": 3})
    buf = io.StringIO()
    assert audit.export_jsonl(buf) == 2
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert [x["action"] for x in lines] == ["login", "export"]
    assert lines[1]["detail"] == {"query": "机油", "rows": 3}
    assert lines[1]["prev_hash"] == lines[0]["hash"]


def _woa(*args: str, archive: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*WOA, *args, "--archive", str(archive)], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str,
         stdin: str = "") -> tuple[int, str, str]:
    """``woa ARGS`` in this process (Django is configured already: the test database)."""
    from woa.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main([*args, "--archive", "unused"])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.django_db
def test_cli_users_and_stores(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _cli(monkeypatch, capsys, "users", "create", "boss", "--admin", stdin="")
    assert rc == 2 and "no password" in err  # no default password, ever
    rc, _, err = _cli(monkeypatch, capsys, "users", "create", "boss", "--admin", stdin="short\n")
    assert rc == 2 and "password" in err
    rc, out, err = _cli(monkeypatch, capsys, "users", "create", "boss", "--admin", stdin="Tianhe-archive-2024\n")
    assert rc == 0, err
    assert _cli(monkeypatch, capsys, "stores", "add", "GZ", "广州店")[0] == 0
    rc, _, err = _cli(monkeypatch, capsys, "users", "create", "li", "--store", "GZ", "--role", "advisor",
                      stdin="Tianhe-archive-2025\n")
    assert rc == 0, err
    assert _cli(monkeypatch, capsys, "users", "grant", "li", "GZ", "clerk")[0] == 0
    rc, out, _ = _cli(monkeypatch, capsys, "users", "list")
    assert "boss" in out and "admin of every store" in out and "GZ:advisor" in out and "GZ:clerk" in out
    from django.contrib.auth import authenticate, get_user_model

    assert authenticate(username="li", password="Tianhe-archive-2025") is not None
    assert get_user_model().objects.get(username="boss").is_superuser
    rc, out, _ = _cli(monkeypatch, capsys, "audit", "verify")
    assert rc == 0 and "4 rows" in out
    rc, out, _ = _cli(monkeypatch, capsys, "audit", "export")
    assert [json.loads(x)["action"] for x in out.splitlines()] == [
        "user_create", "store_create", "user_create", "role_grant"]


@pytest.mark.slow
def test_cli_audit_verify_reports_exactly_the_row_edited_in_the_database(tmp_path: Path) -> None:
    """The real commands, each in its own process, on the archive's own SQLite database."""
    archive = tmp_path / "archive"
    r = _woa("users", "create", "boss", "--admin", archive=archive, stdin="Tianhe-archive-2024\n")
    assert r.returncode == 0, r.stderr
    assert (archive / "db" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert _woa("stores", "add", "GZ", "广州店", archive=archive).returncode == 0
    assert _woa("stores", "add", "SZ", "深圳店", archive=archive).returncode == 0
    con = sqlite3.connect(archive / "db" / "web.sqlite3")
    assert con.execute("SELECT count(*) FROM audit_auditentry").fetchone() == (3,)
    con.execute("UPDATE audit_auditentry SET detail = ? WHERE id = 2", ['{"name": "佛山店"}'])
    con.commit()
    con.close()
    r = _woa("audit", "verify", archive=archive)
    assert r.returncode == 1
    assert r.stdout.splitlines() == ["audit row 2: hash chain broken (row changed, or the row before it deleted)"]


def test_audit_rows_are_readable_with_any_actor(db: Any) -> None:
    from web import audit

    e = audit.record("x" * 500, "a" * 100, "t" * 400)
    assert len(e.actor) == 150 and len(e.action) == 64 and len(e.target) == 255
    assert audit.verify() == []
