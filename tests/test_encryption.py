"""An encrypted archive: nothing readable on disk, everything working through the archive API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from core import crypto
from core.archive import Archive
from core.crypto import KeySource, parse_keys
from tests.backup_helpers import WoaRunner, text_pdf_variants


def known_secrets(root: Path) -> set[bytes]:
    """VINs, plates, customer names and phones of the plain archive, as UTF-8 bytes."""
    found: set[bytes] = set()
    for doc in Archive(root).documents():
        for name in ("vin", "plate", "customer", "customer_name", "phone", "owner"):
            fv = doc.fields.get(name)
            if fv is not None and fv.value and len(str(fv.value)) >= 4:
                found.add(str(fv.value).encode("utf-8"))
    return found


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "index" not in p.relative_to(root).parts]


def test_encrypted_archive_leaks_nothing_and_works_unchanged(tmp_path: Path, archive_copy: Path) -> None:
    secrets = known_secrets(archive_copy)
    assert any(len(s) == 17 for s in secrets), "no VIN in the samples"
    assert any(not s.isascii() for s in secrets), "no Chinese value (name or plate) in the samples"
    key_file = tmp_path / "keys" / "master.key"
    woa = WoaRunner(tmp_path, archive_copy, encrypt_at_rest=True, master_key_file=str(key_file))
    plain_export = (woa("export"), woa.out)[1]
    new = text_pdf_variants(archive_copy, tmp_path / "new", 2)  # ingested encrypted from the start
    assert woa("keys", "init") == 0 and (key_file.stat().st_mode & 0o777) == 0o600
    assert woa("encrypt") == 0, woa.err
    assert woa("ingest", str(new[0])) == 0, woa.err
    assert woa("ingest", str(new[1]), str(new[0])) == 0, woa.err  # one new, one duplicate
    assert "duplicate of" in woa.out
    assert woa("reindex") == 0

    for path in stored_files(archive_copy):
        data = path.read_bytes()
        leaked = [s.decode() for s in secrets if s in data]
        assert not leaked, f"{path.relative_to(archive_copy)} holds {leaked} in plain"
    for kind in ("originals", "pdf", "sidecars"):
        for path in (archive_copy / kind).rglob("*"):
            if path.is_file():
                assert path.read_bytes()[: len(crypto.MAGIC)] == crypto.MAGIC, path

    assert woa("verify") == 0, woa.out
    export_now = (woa("export"), woa.out)[1].splitlines()
    assert set(plain_export.splitlines()) <= set(export_now)  # the same records, decrypted
    assert len(export_now) == len(plain_export.splitlines()) + 2
    doc_id = json.loads(plain_export.splitlines()[0])["id"]
    assert woa("show", doc_id, "--text") == 0 and "text:" in woa.out
    assert woa("reprocess") == 0, woa.err
    assert woa("review", "set", doc_id, "plate", "粤A00001") == 0, woa.err
    assert woa("search", "粤A00001") == 0 and doc_id in woa.out
    out_pdf = tmp_path / "download.pdf"
    archive = Archive(archive_copy, keys=KeySource(key_file=key_file, env=False))
    doc = archive.load(doc_id)
    stored = archive.copy_out(doc.archive_pdf, out_pdf)
    assert stored.sha256 == doc.archive_sha256 and out_pdf.read_bytes().startswith(b"%PDF")

    # a flipped byte in an encrypted original is reported by verify (the GCM tag)
    victim = archive_copy / doc.original
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    victim.write_bytes(bytes(raw))
    assert woa("verify") == 1
    assert f"original: {doc.original}: encrypted content fails authentication" in woa.out
    raw[len(raw) // 2] ^= 0x01
    victim.write_bytes(bytes(raw))

    # rotation re-wraps every data key; everything stays readable with the new key alone
    old_keys = parse_keys(key_file.read_text(), "old")
    bodies = {p: p.read_bytes()[crypto.HEADER_LEN :] for p in (archive_copy / "originals").rglob("*") if p.is_file()}
    assert woa("keys", "rotate") == 0, woa.err
    new_keys = parse_keys(key_file.read_text(), "new")
    assert len(new_keys) == 1 and new_keys[0] not in old_keys
    assert all(p.read_bytes()[crypto.HEADER_LEN :] == body for p, body in bodies.items())  # no file re-encrypted
    assert woa("verify") == 0, woa.out
    retired = next(key_file.parent.glob("master.key.retired-*"))
    assert parse_keys(retired.read_text(), "retired") == old_keys and (retired.stat().st_mode & 0o777) == 0o600


def test_wrong_or_missing_key_is_one_line_and_nothing_is_overwritten(tmp_path: Path, archive_copy: Path) -> None:
    key_file = tmp_path / "master.key"
    woa = WoaRunner(tmp_path, archive_copy, encrypt_at_rest=True, master_key_file=str(key_file))
    new = text_pdf_variants(archive_copy, tmp_path / "new", 1)
    duplicate = next(p for p in (archive_copy / "originals").rglob("*") if p.is_file())
    shutil.copy(duplicate, tmp_path / f"again{duplicate.suffix}")
    assert woa("keys", "init") == 0 and woa("encrypt") == 0
    before = {p: p.read_bytes() for p in stored_files(archive_copy)}
    some_id = next(Archive(archive_copy).ids())

    crypto.write_key_file(key_file, [crypto.new_master_key()])  # somebody else's key
    assert woa("show", some_id) == 1
    assert woa.err.count("\n") == 1 and "does not hold the master key" in woa.err
    assert woa("ingest", str(new[0]), str(tmp_path / f"again{duplicate.suffix}")) == 1
    failures = [ln for ln in woa.err.splitlines() if ln.startswith("woa: ")]
    assert len(failures) == 2 and all("master key" in ln for ln in failures), woa.err
    key_file.unlink()
    assert woa("show", some_id) == 1 and "not found" in woa.err and woa.err.count("\n") == 1
    assert woa("ingest", str(new[0])) == 1 and "not found" in woa.err
    assert woa("verify") == 1 and "Traceback" not in woa.out + woa.err
    assert {p: p.read_bytes() for p in stored_files(archive_copy)} == before  # nothing written, nothing overwritten
