"""The cold tier against a real S3 server on loopback (``rclone serve s3``): encrypted moves,
transparent fetch, verify of cold copies, faults, disposal from the tier, and kill tests that stop
the process between each step of a move (issue 14)."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.ingest import ingest_file
from app.lifecycle.run import run_pass
from app.lifecycle.tier import STEPS, context, move_to_cold
from app.verify import verify_archive
from core.archive import Archive
from core.settings import Settings, load_settings
from index import search
from tests.helpers import ROOT, woa_main
from tests.lifecycle_servers import ACCESS_KEY, SECRET_KEY, S3Server, born_digital_scans, s3_server
from woa.cli import main

BUCKET = "woa-cold"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(scope="module")
def born_digital(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return born_digital_scans(tmp_path_factory)


def _settings(tmp_path: Path, s3: S3Server, prefix: str, **kw: object) -> Settings:
    (s3.directory / BUCKET).mkdir(exist_ok=True)  # rclone serve s3: a bucket is a top-level directory
    key = tmp_path / "keys" / "tier.key"
    if not key.exists():
        key.parent.mkdir()
        key.write_text("11" * 32 + "\n")
    secret = tmp_path / "keys" / "s3-secret"
    secret.write_text(SECRET_KEY)
    values: dict[str, object] = {"archive_dir": tmp_path / "archive", "tier_url": f"s3://{BUCKET}/{prefix}",
                                 "tier_endpoint": s3.endpoint, "tier_access_key": ACCESS_KEY,
                                 "tier_secret_key_file": secret, "tier_key_file": key, "tier_after_days": 365}
    values.update(kw)
    return load_settings(**values)  # type: ignore[arg-type]


def _ingest(paths: list[Path], settings: Settings) -> list[str]:
    ids = []
    for p in paths:
        res = ingest_file(p, settings)
        assert res.status == "archived", res.error
        ids.append(res.archived_id)
    return ids


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_move_fetch_verify_status(tmp_path: Path, s3: S3Server, born_digital: list[Path],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    settings = _settings(tmp_path, s3, "t1")
    ids = _ingest(born_digital[:3], settings)
    archive = Archive(settings.archive_dir)
    docs = {i: archive.load(i) for i in ids}
    report = run_pass(archive, settings, date(2030, 1, 1))  # every generated order is older than a year by then
    assert sorted(report.moved) == sorted(ids) and not report.move_failures
    for doc_id, doc in docs.items():
        cold = archive.load(doc_id)
        assert cold.tier["encrypted"] == "AES-256-GCM" and cold.tier["where"].startswith(f"s3://{BUCKET}/t1")
        assert not archive.abs(doc.original).exists() and not archive.abs(doc.archive_pdf).exists()
        obj = s3.directory / BUCKET / "t1" / cold.tier["keys"]["pdf"]
        blob = obj.read_bytes()
        assert blob.startswith(b"WOA1") and b"%PDF" not in blob[:64]
        assert doc.fields["customer_name"].value.encode() not in blob  # the provider sees no plaintext
    assert {h.id for h in search(archive, "tier:cold").hits} == set(ids)  # the index stays hot
    order = docs[ids[0]].fields["order_no"].value
    assert [h.id for h in search(archive, f"order:{order}").hits] == [ids[0]]

    # opening fetches, decrypts, checks and caches
    capsys.readouterr()
    assert main(["show", ids[0], "--open", "--archive", str(settings.archive_dir)]) == 1  # no tier settings given
    assert "no tier is configured" in capsys.readouterr().err
    from app.lifecycle.tier import fetch

    ctx = context(settings)
    for kind, sha in (("pdf", docs[ids[0]].archive_sha256), ("original", docs[ids[0]].sha256)):
        path = fetch(archive, archive.load(ids[0]), kind, ctx)
        assert path.is_relative_to(archive.root / "cache") and _sha(path) == sha

    rep = verify_archive(archive.root, cold_check=_checker(settings))
    assert rep.ok, [str(p) for p in rep.problems]

    from app.lifecycle.tier import status

    st = status(archive, settings)
    assert (st["hot_documents"], st["cold_documents"], st["cold_objects"]) == (0, 3, 6)
    assert st["hot_bytes"] == 0 and st["cold_bytes"] > 0 and st["cache_files"] == 2

    # a damaged cold copy is found by verify
    obj = s3.directory / BUCKET / "t1" / archive.load(ids[1]).tier["keys"]["original"]
    data = bytearray(obj.read_bytes())
    data[-1] ^= 0xFF
    obj.write_bytes(bytes(data))
    rep = verify_archive(archive.root, cold_check=_checker(settings))
    assert [(p.kind, p.path) for p in rep.problems] == [("tier", ids[1])] and "decryption failed" in rep.problems[0].detail


def _checker(settings: Settings, sample: int | None = None):  # type: ignore[no-untyped-def]
    from app.lifecycle.tier import cold_check

    return cold_check(settings, sample)


@pytest.mark.parametrize("fault", ["wrong-credentials", "unreachable", "no-bucket"])
def test_tier_faults_leave_documents_hot(tmp_path: Path, s3: S3Server, born_digital: list[Path], fault: str) -> None:
    settings = _settings(tmp_path, s3, "faults")
    if fault == "wrong-credentials":
        assert settings.tier_secret_key_file is not None
        settings.tier_secret_key_file.write_text("not-the-secret")
    elif fault == "unreachable":
        from tests.redis_server import free_port

        settings.tier_endpoint = f"http://127.0.0.1:{free_port()}"
    else:
        settings.tier_url = "s3://no-such-bucket/x"
    (doc_id,) = _ingest(born_digital[:1], settings)
    archive = Archive(settings.archive_dir)
    doc = archive.load(doc_id)
    report = run_pass(archive, settings, date(2030, 1, 1))
    assert report.moved == [] and len(report.move_failures) == 1
    line = report.move_failures[0]
    assert "\n" not in line and line.startswith("tier s3://")
    assert not archive.load(doc_id).tier and archive.abs(doc.original).is_file() and archive.abs(doc.archive_pdf).is_file()
    assert verify_archive(archive.root).ok
    # fixed: the next pass moves it
    good = _settings(tmp_path, s3, "faults")
    assert good.tier_secret_key_file is not None
    good.tier_secret_key_file.write_text(SECRET_KEY)
    assert run_pass(archive, good, date(2030, 1, 2)).moved == [doc_id]


def test_key_file_inside_the_archive_is_refused(tmp_path: Path, s3: S3Server, born_digital: list[Path]) -> None:
    settings = _settings(tmp_path, s3, "inside")
    inside = settings.archive_dir / "tier.key"
    settings.archive_dir.mkdir(parents=True, exist_ok=True)
    inside.write_text("22" * 32)
    settings.tier_key_file = inside
    (doc_id,) = _ingest(born_digital[:1], settings)
    report = run_pass(Archive(settings.archive_dir), settings, date(2030, 1, 1))
    assert report.moved == [] and "inside the archive" in report.move_failures[0]


@pytest.mark.django_db
def test_disposal_removes_the_cold_copy(tmp_path: Path, s3: S3Server, born_digital: list[Path]) -> None:
    settings = _settings(tmp_path, s3, "dispose")
    (doc_id,) = _ingest(born_digital[:1], settings)
    archive = Archive(settings.archive_dir)
    config = tmp_path / "woa.toml"
    config.write_text("\n".join(f'{k} = "{v}"' for k, v in (
        ("tier_url", settings.tier_url), ("tier_endpoint", settings.tier_endpoint),
        ("tier_access_key", settings.tier_access_key), ("tier_secret_key_file", settings.tier_secret_key_file),
        ("tier_key_file", settings.tier_key_file))) + "\n")
    assert woa_main(settings.archive_dir, "review", "set", doc_id, "date_out", "2019-06-30", config=config) == 0
    run_pass(archive, settings, date(2025, 7, 1))
    doc = archive.load(doc_id)
    assert doc.tier
    objects = [s3.directory / BUCKET / "dispose" / k for k in doc.tier["keys"].values()]
    assert all(o.is_file() for o in objects)
    assert woa_main(settings.archive_dir, "dispose", "--approve", doc_id, "--by", "boss", "--today", "2025-07-02",
                config=config) == 0
    assert not any(o.exists() for o in objects)
    assert not archive.sidecar_path(doc_id).exists()
    tomb = json.loads(archive.tombstone_path(doc_id).read_text(encoding="utf-8"))
    assert tomb["tier"] == "cold" and tomb["approved_by"] == "boss"
    assert verify_archive(archive.root).ok
    res = ingest_file(born_digital[0], settings)
    assert res.status == "failed" and "disposed of" in (res.error or "")


KILL_SCRIPT = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from app.lifecycle.tier import context, move_to_cold
from core.archive import Archive
from core.settings import load_settings
settings = load_settings(config=Path({config!r}))
def on_step(step):
    if step == {step!r}:
        os.kill(os.getpid(), signal.SIGKILL)
move_to_cold(Archive(settings.archive_dir), context(settings), {doc_id!r}, on_step)
"""


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_kill_between_each_step_of_a_move(tmp_path: Path, s3: S3Server, born_digital: list[Path], step: str) -> None:
    settings = _settings(tmp_path, s3, f"kill-{step}")
    (doc_id,) = _ingest(born_digital[:1], settings)
    archive = Archive(settings.archive_dir)
    before = archive.load(doc_id)
    config = tmp_path / "woa.toml"
    config.write_text("\n".join(f'{k} = "{v}"' for k, v in (
        ("archive_dir", settings.archive_dir), ("tier_url", settings.tier_url), ("tier_endpoint", settings.tier_endpoint),
        ("tier_access_key", settings.tier_access_key), ("tier_secret_key_file", settings.tier_secret_key_file),
        ("tier_key_file", settings.tier_key_file))) + "\n")
    script = KILL_SCRIPT.format(root=str(ROOT), config=str(config), step=step, doc_id=doc_id)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-800:]

    # straight after the kill: exactly one document, readable, and verify is clean
    assert list(archive.ids()) == [doc_id]
    ctx = context(settings)
    from app.lifecycle.tier import fetch

    def readable() -> None:
        doc = archive.load(doc_id)
        assert _sha(fetch(archive, doc, "original", ctx)) == before.sha256
        assert _sha(fetch(archive, doc, "pdf", ctx)) == before.archive_sha256

    readable()
    rep = verify_archive(archive.root, cold_check=_checker(settings))
    assert rep.ok, [str(p) for p in rep.problems]
    # the next pass finishes (or redoes) the move: cold, no hot copy left, still readable once
    run_pass(archive, settings, date(2030, 1, 1))
    after = archive.load(doc_id)
    assert after.tier and not archive.abs(before.original).exists() and not archive.abs(before.archive_pdf).exists()
    assert not (archive.lifecycle_dir / "moving" / doc_id).exists()
    readable()
    assert list(archive.ids()) == [doc_id]
    assert [h.id for h in search(archive, f"id:{doc_id}").hits] == [doc_id]
    rep = verify_archive(archive.root, cold_check=_checker(settings))
    assert rep.ok, [str(p) for p in rep.problems]


def test_move_by_cli_and_sample_verify(tmp_path: Path, s3: S3Server, born_digital: list[Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    settings = _settings(tmp_path, s3, "cli")
    ids = _ingest(born_digital[:2], settings)
    archive = Archive(settings.archive_dir)
    ctx = context(settings)
    assert ctx is not None
    move_to_cold(archive, ctx, ids[0])
    from app.lifecycle.tier import check_cold

    assert check_cold(archive, ctx, [archive.load(ids[0])], sample=1) == []
    assert archive.load(ids[1]).tier == {}


def test_filesystem_tier_and_last_access(tmp_path: Path, born_digital: list[Path]) -> None:
    """A second filesystem path as the tier; with tier_by = "last_access" a recently opened document stays hot."""
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "k").write_text("44" * 32)
    settings = load_settings(archive_dir=tmp_path / "archive", tier_url=str(tmp_path / "nas" / "woa-cold"),
                             tier_key_file=tmp_path / "keys" / "k", tier_after_days=365, tier_by="last_access")
    opened, idle = _ingest(born_digital[:2], settings)
    archive = Archive(settings.archive_dir)
    from app.lifecycle.tier import open_document_file

    with open_document_file(archive, settings, archive.load(opened), "pdf") as fh:
        assert fh.read(5) == b"%PDF-"
    report = run_pass(archive, settings, date.today())
    assert report.moved == [idle]
    cold = archive.load(idle)
    assert cold.tier["where"] == str(tmp_path / "nas" / "woa-cold")
    assert (tmp_path / "nas" / "woa-cold" / cold.tier["keys"]["original"]).read_bytes()[:4] == b"WOA1"
    assert not archive.load(opened).tier
    assert verify_archive(archive.root, cold_check=_checker(settings)).ok


def test_a_bad_copy_leaves_the_document_hot(tmp_path: Path, born_digital: list[Path]) -> None:
    """The tier stores something else than was sent (a faulty NAS): the check after the copy refuses the move."""
    from app.lifecycle.tier import Cipher, FsTier, TierContext, TierError

    class FlippingDisk(FsTier):
        def put(self, key: str, data: bytes) -> None:
            super().put(key, data[:-1] + bytes([data[-1] ^ 1]))

    settings = load_settings(archive_dir=tmp_path / "archive")
    (doc_id,) = _ingest(born_digital[:1], settings)
    archive = Archive(settings.archive_dir)
    before = archive.load(doc_id)
    ctx = TierContext(FlippingDisk(tmp_path / "nas"), Cipher(b"\x55" * 32))
    with pytest.raises(TierError) as exc:
        move_to_cold(archive, ctx, doc_id)
    assert "\n" not in str(exc.value) and "decryption failed" in str(exc.value)
    assert not archive.load(doc_id).tier
    assert _sha(archive.abs(before.original)) == before.sha256 and archive.abs(before.archive_pdf).is_file()
    assert verify_archive(archive.root).ok


def test_woa_verify_cli_checks_cold_copies(tmp_path: Path, s3: S3Server, born_digital: list[Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    settings = _settings(tmp_path, s3, "cli-verify")
    ids = _ingest(born_digital[:2], settings)
    archive = Archive(settings.archive_dir)
    ctx = context(settings)
    assert ctx is not None
    for doc_id in ids:
        move_to_cold(archive, ctx, doc_id)
    from index import update_index

    update_index(archive, [archive.load(i) for i in ids])
    config = tmp_path / "woa.toml"
    config.write_text("\n".join(f'{k} = "{v}"' for k, v in (
        ("tier_url", settings.tier_url), ("tier_endpoint", settings.tier_endpoint),
        ("tier_access_key", settings.tier_access_key), ("tier_secret_key_file", settings.tier_secret_key_file),
        ("tier_key_file", settings.tier_key_file))) + "\n")
    capsys.readouterr()
    assert woa_main(settings.archive_dir, "verify", "--sample", "1", "--workers", "1", config=config) == 0
    assert woa_main(settings.archive_dir, "tier", "status", "--json", config=config) == 0
    st = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (st["hot_documents"], st["cold_documents"], st["cold_objects"]) == (0, 2, 4)
    obj = s3.directory / BUCKET / "cli-verify" / archive.load(ids[0]).tier["keys"]["pdf"]
    obj.write_bytes(obj.read_bytes()[:-3])
    assert woa_main(settings.archive_dir, "verify", "--workers", "1", config=config) == 1
    assert f"tier: {ids[0]}: cold pdf" in capsys.readouterr().out
    assert woa_main(settings.archive_dir, "verify", "--workers", "1") == 1  # no tier settings: cold documents unchecked
    assert "in a cold tier, but none is configured" in capsys.readouterr().out


def test_tier_counts_from_date_out(tmp_path: Path, born_digital: list[Path]) -> None:
    """An order brought in long ago but delivered recently stays hot: the cut-off applies to date_out."""
    from app.documents import correct_field

    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "k").write_text("66" * 32)
    settings = load_settings(archive_dir=tmp_path / "archive", tier_url=str(tmp_path / "nas" / "woa-cold"),
                             tier_key_file=tmp_path / "keys" / "k", tier_after_days=365)
    late, early = _ingest(born_digital[:2], settings)
    archive = Archive(settings.archive_dir)
    today = date.today()
    for doc_id, date_in, date_out in ((late, today.replace(year=today.year - 3), today),
                                      (early, today.replace(year=today.year - 3), today.replace(year=today.year - 2))):
        correct_field(archive, doc_id, "date_in", date_in.isoformat(), settings)
        correct_field(archive, doc_id, "date_out", date_out.isoformat(), settings)
    report = run_pass(archive, settings, today)
    assert report.moved == [early]
    assert not archive.load(late).tier
