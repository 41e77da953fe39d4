"""``woa backup`` / ``woa restore`` / ``woa backup verify`` with the real restic binary, local repositories."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from core.archive import Archive
from tests.backup_helpers import WoaRunner, sidecar_hashes, text_pdf_variants

pytestmark = pytest.mark.skipif(shutil.which("restic") is None, reason="restic not installed (scripts/setup.sh)")


def check_restored_hashes(root: Path) -> dict[str, dict[str, str]]:
    """Every document's original and PDF hashed here, byte for byte, against its sidecar."""
    out = {}
    for doc_id, (orig_rel, orig_sha, pdf_rel, pdf_sha) in sidecar_hashes(root).items():
        assert hashlib.sha256((root / orig_rel).read_bytes()).hexdigest() == orig_sha, orig_rel
        assert hashlib.sha256((root / pdf_rel).read_bytes()).hexdigest() == pdf_sha, pdf_rel
        out[doc_id] = json.loads((root / "sidecars" / doc_id[:2] / f"{doc_id}.json").read_text(encoding="utf-8"))
    return out


@pytest.mark.slow  # several restic runs; the fast loop keeps a backup + restore + verify and the refusals
def test_backup_change_backup_restore_each_snapshot(tmp_path: Path, archive_copy: Path) -> None:
    woa = WoaRunner(tmp_path, archive_copy)
    assert woa("backup", "init") == 0
    before = set(Archive(archive_copy).ids())
    assert woa("backup") == 0, woa.err
    snap1 = woa.snapshot_ids()[-1]

    # change it: two new documents, a correction, a disposal (with its tombstone and audit rows)
    new_pdfs = text_pdf_variants(archive_copy, tmp_path / "new", 2)
    assert woa("ingest", *map(str, new_pdfs)) == 0, woa.err
    corrected, disposed = sorted(before)[:2]
    assert woa("review", "set", corrected, "plate", "粤B99999") == 0, woa.err
    assert woa("review", "set", disposed, "date_out", "2010-01-05") == 0, woa.err
    assert woa("dispose", "--approve", disposed, "--by", "boss") == 0, woa.err
    after = set(Archive(archive_copy).ids())
    assert len(after - before) == 2 and disposed not in after
    assert woa("backup") == 0, woa.err
    snap2 = woa.snapshot_ids()[-1]
    assert snap2 != snap1
    assert "restic" not in woa.err

    for snap, ids, plate_corrected in ((snap1, before, False), (snap2, after, True)):
        target = tmp_path / f"restored-{snap}"
        assert woa("restore", snap, "--to", str(target)) == 0, woa.out + woa.err  # reindex + verify clean inside
        docs = check_restored_hashes(target)
        assert set(docs) == ids
        assert (docs[corrected]["fields"]["plate"]["value"] == "粤B99999") is plate_corrected
        assert not (target / "index").exists() or any((target / "index").iterdir())
        assert woa("verify", archive=target) == 0, woa.out
        assert woa("search", "粤B99999" if plate_corrected else "vin:" + docs[corrected]["fields"]["vin"]["value"],
                   archive=target) == 0
        assert corrected in woa.out
        tombstone = Archive(target).tombstone_path(disposed)
        assert tombstone.is_file() is plate_corrected  # the disposal's record is in the later snapshot only
        settings_copy = json.loads((target / "woa-settings.json").read_text())
        assert settings_copy["backup_repository"] == str(woa.repo)
        assert "secretpw" not in (target / "woa-settings.json").read_text()


@pytest.mark.slow  # several restic runs; the fast loop keeps a backup + restore + verify and the refusals
def test_incremental_backup_adds_little_and_verify_restores_a_sample(tmp_path: Path, archive_copy: Path) -> None:
    woa = WoaRunner(tmp_path, archive_copy)
    assert woa("backup", "init") == 0
    assert woa("backup") == 0
    first_added = woa.added_mb()
    assert woa("backup") == 0
    assert woa.added_mb() < 0.05 < first_added  # nothing changed: restic adds only metadata
    assert woa("backup", "verify", "--sample", "5") == 0, woa.err
    assert "restored 5 random documents (10 files" in woa.err and "all match" in woa.err
    assert "subset 1/12" in woa.err
    assert woa("backup", "verify", "--sample", "1") == 0
    assert "subset 2/12" in woa.err  # the next slice of the data next time


@pytest.mark.slow  # several restic runs; the fast loop keeps a backup + restore + verify and the refusals
def test_backup_verify_reports_a_damaged_repository(tmp_path: Path, archive_copy: Path) -> None:
    woa = WoaRunner(tmp_path, archive_copy)
    assert woa("backup", "init") == 0 and woa("backup") == 0
    packs = sorted((woa.repo / "data").rglob("*"), key=lambda p: p.stat().st_size if p.is_file() else 0)
    biggest = packs[-1]
    raw = bytearray(biggest.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    biggest.chmod(0o644)
    biggest.write_bytes(bytes(raw))
    woa.settings["backup_verify_subsets"] = 1  # read all the data this time
    assert woa("backup", "verify", "--sample", "3") == 1
    assert "woa: backup: restic check" in woa.err and "Traceback" not in woa.err


def test_restore_refuses_a_non_empty_folder(tmp_path: Path, archive_copy: Path) -> None:
    woa = WoaRunner(tmp_path, archive_copy)
    assert woa("backup", "init") == 0 and woa("backup") == 0
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    assert woa("restore", "latest", "--to", str(target)) == 1
    assert "not an empty folder" in woa.err
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_unreachable_target_is_one_line_and_non_zero(tmp_path: Path, archive_copy: Path) -> None:
    woa = WoaRunner(tmp_path, archive_copy)
    woa.settings["backup_repository"] = str(tmp_path / "no-such-disk" / "repo")
    assert woa("backup") == 1
    assert woa.err.count("\n") == 1 and woa.err.startswith("woa: backup: restic backup")
    woa.settings["backup_repository"] = "sftp:nobody@127.0.0.1:/nowhere"
    woa.settings["backup_password_file"] = str(woa.password_file)
    rc = woa("backup", "snapshots", env={"RESTIC_SFTP_COMMAND": "false"})  # an SFTP host that does not answer
    assert rc == 1 and woa.err.startswith("woa: backup:") and woa.err.count("\n") == 1


@pytest.mark.slow  # several restic runs; the fast loop keeps a backup + restore + verify and the refusals
def test_full_target_keeps_previous_snapshots(tmp_path: Path, archive_copy: Path) -> None:
    small = tmp_path / "small-disk"
    small.mkdir()
    archive_mb = sum(p.stat().st_size for p in archive_copy.rglob("*") if p.is_file() and "index" not in p.parts) / 1e6
    disk_mb = int(archive_mb * 1.3) + 4  # room for one backup, not for two
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={disk_mb}m", "tmpfs", str(small)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        woa = WoaRunner(tmp_path, archive_copy, repo=small / "repo")
        assert woa("backup", "init") == 0
        assert woa("backup") == 0, woa.err
        first = woa.snapshot_ids()
        (archive_copy / "lifecycle").mkdir()
        (archive_copy / "lifecycle" / "big-state.bin").write_bytes(os.urandom(disk_mb * 1024 * 1024))  # more than the disk holds
        assert woa("backup") == 1
        assert woa.err.startswith("woa: backup: restic backup") and woa.err.count("\n") == 1
        assert "no space left" in woa.err.lower()
        shutil.rmtree(archive_copy / "lifecycle")
        assert woa.snapshot_ids() == first
        target = tmp_path / "restored"
        assert woa("restore", first[-1], "--to", str(target)) == 0, woa.err
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


@pytest.mark.slow  # several restic runs; the fast loop keeps a backup + restore + verify and the refusals
def test_web_database_is_an_online_backup_and_secrets_stay_out(tmp_path: Path, archive_copy: Path) -> None:
    db = archive_copy / "db" / "web.sqlite3"
    db.parent.mkdir()
    (archive_copy / "db" / "secret_key").write_text("django-secret")
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT)")
    con.executemany("INSERT INTO audit (what) VALUES (?)", [(f"row {i}",) for i in range(100)])
    con.commit()
    con.execute("BEGIN")
    con.execute("INSERT INTO audit (what) VALUES ('not committed')")  # open write transaction during the backup
    woa = WoaRunner(tmp_path, archive_copy)
    try:
        assert woa("backup", "init") == 0
        assert woa("backup") == 0, woa.err
    finally:
        con.rollback()
        con.close()
    target = tmp_path / "restored"
    assert woa("restore", "latest", "--to", str(target)) == 0, woa.err
    copy = sqlite3.connect(target / "db" / "web.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM audit").fetchone()[0] == 100
    copy.close()
    assert not (target / "db" / "secret_key").exists()
    assert not list(target.rglob("*-wal")) and not (target / "locks").exists()


@pytest.mark.slow
def test_backup_while_watch_ingests_restores_consistent_archives(tmp_path: Path) -> None:
    from benchmarks.soak import render_scan
    from tests.helpers import Watcher, finished, journal_rows

    w = Watcher(tmp_path, workers=2)
    try:
        w.wait_log("event=start")
        woa = WoaRunner(tmp_path, w.archive)
        staging = tmp_path / "staging"
        staging.mkdir()
        for n in range(20):
            (staging / f"scan_{n:03d}.png").write_bytes(render_scan(100 + n))
        snapshots_taken = 0
        counts: list[int] = []
        assert woa("backup", "init") == 0
        for n, f in enumerate(sorted(staging.iterdir())):
            os.rename(f, w.inbox / f.name)  # files keep arriving while backups run
            if n % 4 == 3:
                assert woa("backup", "--no-forget") == 0, woa.err
                snapshots_taken += 1
                counts.append(len(list(Archive(w.archive).ids())))
        deadline = time.monotonic() + 900
        while finished(w.archive) < 20:
            assert time.monotonic() < deadline and w.proc.poll() is None, w.log[-2000:]
            assert woa("backup", "--no-forget") == 0, woa.err
            snapshots_taken += 1
            counts.append(len(list(Archive(w.archive).ids())))
        assert w.stop() == 0
        assert woa("backup", "--no-forget") == 0
    finally:
        if w.proc.poll() is None:
            w.kill()
    assert len({r.doc_id for r in journal_rows(w.archive)}) == 20
    assert any(0 < c < 20 for c in counts), f"no backup ran mid-ingest: {counts}"
    snaps = woa.snapshot_ids()
    assert len(snaps) == snapshots_taken + 1
    seen = set()
    for snap in snaps:
        target = tmp_path / f"r-{snap}"
        assert woa("restore", snap, "--to", str(target)) == 0, woa.out + woa.err  # verify clean incl. the journal
        docs = check_restored_hashes(target)  # every document whole
        assert not [p for p in (target / "originals").rglob("*") if p.is_file() and p.stem not in docs]
        seen.add(len(docs))
    assert max(seen) == 20 and len(seen) > 2


@pytest.mark.slow  # several restic runs; the fast loop keeps a backup + restore + verify and the refusals
def test_backup_and_restore_through_loopback_s3(tmp_path: Path, archive_copy: Path) -> None:
    servers = pytest.importorskip("tests.lifecycle_servers", reason="the lifecycle work's loopback S3 server is not on main")
    if shutil.which(servers.RCLONE) is None and not Path(servers.RCLONE).exists():
        pytest.skip("rclone not installed")
    with servers.s3_server() as s3:
        (s3.directory / "woa-backups").mkdir()
        env = {"AWS_ACCESS_KEY_ID": servers.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": servers.SECRET_KEY}
        woa = WoaRunner(tmp_path, archive_copy, backup_repository=f"s3:{s3.endpoint}/woa-backups/archive")
        assert woa("backup", "init", env=env) == 0, woa.err
        assert woa("backup", env=env) == 0, woa.err
        assert woa("backup", "verify", "--sample", "3", env=env) == 0, woa.err
        target = tmp_path / "restored"
        assert woa("restore", "latest", "--to", str(target), env=env) == 0, woa.out + woa.err
        assert set(check_restored_hashes(target)) == set(Archive(archive_copy).ids())
        assert any((s3.directory / "woa-backups").rglob("config"))


@pytest.mark.slow
def test_postgresql_web_database_is_dumped_and_restorable(tmp_path: Path, archive_copy: Path) -> None:
    import psycopg

    from tests.services import pg_bin_dir, postgres_server

    if pg_bin_dir() is None or shutil.which("pg_dump") is None:
        pytest.skip("PostgreSQL not installed")
    with postgres_server() as pg:
        with psycopg.connect(pg.url, autocommit=True) as con:
            con.execute("CREATE TABLE audit (id serial PRIMARY KEY, what text)")
            con.execute("INSERT INTO audit (what) SELECT 'row ' || g FROM generate_series(1, 250) g")
        woa = WoaRunner(tmp_path, archive_copy, database_url=pg.url)
        assert woa("backup", "init") == 0
        assert woa("backup") == 0, woa.err
        target = tmp_path / "restored"
        assert woa("restore", "latest", "--to", str(target)) == 0, woa.err
        dump = target / "db" / "web.pgdump"
        assert dump.is_file() and "pg_restore" in woa.err
        saved = (target / "woa-settings.json").read_text()
        assert pg.password not in saved and "***" in saved
        url = pg.create_database("restored")
        proc = subprocess.run(["pg_restore", "--no-owner", "-d", url, str(dump)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        with psycopg.connect(url) as con:
            assert con.execute("SELECT count(*) FROM audit").fetchone() == (250,)


def test_backup_verify_compares_restored_documents_with_their_sidecars(tmp_path: Path, archive_copy: Path) -> None:
    woa = WoaRunner(tmp_path, archive_copy)
    damaged = sorted(Archive(archive_copy).ids())[3]
    doc = Archive(archive_copy).load(damaged)
    (archive_copy / doc.original).write_bytes((archive_copy / doc.original).read_bytes()[:-1] + b"\x00")  # bit rot before the backup
    assert woa("backup", "init") == 0 and woa("backup") == 0
    n = len(list(Archive(archive_copy).ids()))
    assert woa("backup", "verify", "--sample", str(n)) == 1
    assert f"{damaged}: {doc.original}: restored sha256" in woa.out and "differs from the sidecar's" in woa.out
    assert woa.out.count("\n") == 1 and f"restored {n} random documents" in woa.err
