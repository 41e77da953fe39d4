"""The web app on an archive encrypted at rest: downloads, document pages and search work unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from app.encryption import encrypt_archive
from core import crypto
from core.archive import Archive
from tests.helpers import SAMPLES
from tests.web.helpers import WebArchive


@pytest.fixture
def encrypted(fresh_archive: WebArchive, tmp_path: Path, settings: Any) -> WebArchive:
    key_file = tmp_path / "keys" / "master.key"
    crypto.write_key_file(key_file, [crypto.new_master_key()])
    fresh_archive.settings = fresh_archive.settings.model_copy(
        update={"encrypt_at_rest": True, "master_key_file": key_file})
    res = encrypt_archive(Archive.from_settings(fresh_archive.settings))
    assert not res.problems and res.files_changed == 3 * res.documents
    settings.WOA = fresh_archive.settings
    return fresh_archive


def test_downloads_and_pages_of_an_encrypted_archive(encrypted: WebArchive, login: Any, make_user: Any) -> None:
    doc_id = encrypted.ids("A")[0]
    doc = Archive.from_settings(encrypted.settings).load(doc_id)
    assert (encrypted.root / doc.original).read_bytes().startswith(crypto.MAGIC)  # ciphertext on disk
    c = login(make_user("adv", "advisor"))
    r = c.get(f"/doc/{doc_id}/download/original/")
    assert r.status_code == 200
    body = b"".join(r.streaming_content) if r.streaming else r.content
    assert body == (SAMPLES / doc.source_name).read_bytes()  # the scanner's bytes, decrypted
    r = c.get(f"/doc/{doc_id}/download/pdf/")
    assert r.status_code == 200
    pdf = b"".join(r.streaming_content) if r.streaming else r.content
    assert hashlib.sha256(pdf).hexdigest() == doc.archive_sha256
    r = c.get(f"/doc/{doc_id}/")
    assert r.status_code == 200 and doc.source_name in r.content.decode()
