"""Encryption at rest, at the file level: the archive API reads back exactly what it wrote."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from core import crypto
from core.archive import Archive, KeyUnavailable, TamperedFile
from core.crypto import KeySource, new_master_key, write_key_file


def _archive(tmp_path: Path, key: bytes | None = None, encrypt: bool = True) -> Archive:
    return Archive(tmp_path / "archive", keys=KeySource.of([key or new_master_key()]), encrypt=encrypt)


@pytest.mark.parametrize("size", [0, 1, crypto.CHUNK - 1, crypto.CHUNK, crypto.CHUNK + 1, 3 * crypto.CHUNK + 17])
def test_round_trip_at_chunk_boundaries(tmp_path: Path, size: int) -> None:
    archive = _archive(tmp_path)
    data = os.urandom(size)
    stored = archive.write_bytes("originals/ab/abcd.bin", data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == size
    raw = archive.abs("originals/ab/abcd.bin").read_bytes()
    assert raw.startswith(crypto.MAGIC)
    n_chunks = max(1, -(-size // crypto.CHUNK))
    assert len(raw) == crypto.HEADER_LEN + size + n_chunks * crypto.TAG
    assert archive.read_bytes("originals/ab/abcd.bin") == data
    assert archive.sha256("originals/ab/abcd.bin") == stored.sha256


def test_plain_archive_files_are_stored_as_given(tmp_path: Path) -> None:
    archive = _archive(tmp_path, encrypt=False)
    archive.write_bytes("sidecars/ab/x.json", b'{"a": 1}')
    assert archive.abs("sidecars/ab/x.json").read_bytes() == b'{"a": 1}'
    assert not archive.is_encrypted("sidecars/ab/x.json")


@pytest.mark.parametrize("where", ["header_key", "first_chunk", "last_tag", "truncated", "chunk_dropped"])
def test_any_change_to_an_encrypted_file_fails_authentication(tmp_path: Path, where: str) -> None:
    archive = _archive(tmp_path)
    data = os.urandom(2 * crypto.CHUNK + 100)
    archive.write_bytes("pdf/ab/abcd.pdf", data)
    path = archive.abs("pdf/ab/abcd.pdf")
    raw = bytearray(path.read_bytes())
    one = crypto.CHUNK + crypto.TAG
    if where == "header_key":
        raw[40] ^= 0x01
    elif where == "first_chunk":
        raw[crypto.HEADER_LEN + 5] ^= 0x80
    elif where == "last_tag":
        raw[-1] ^= 0x01
    elif where == "truncated":
        del raw[crypto.HEADER_LEN + 2 * one :]  # ends on a chunk boundary: the last-chunk flag catches it
    else:
        del raw[crypto.HEADER_LEN + one : crypto.HEADER_LEN + 2 * one]
    path.write_bytes(bytes(raw))
    with pytest.raises(TamperedFile):
        archive.read_bytes("pdf/ab/abcd.pdf")


def test_wrong_key_is_one_clear_error_and_nothing_is_written(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    archive.write_bytes("sidecars/ab/x.json", b"secret")
    before = archive.abs("sidecars/ab/x.json").read_bytes()
    other = Archive(archive.root, keys=KeySource.of([new_master_key()]), encrypt=True)
    with pytest.raises(KeyUnavailable, match="does not hold the master key"):
        other.read_bytes("sidecars/ab/x.json")
    with pytest.raises(KeyUnavailable, match="is encrypted with"):
        other.write_bytes("sidecars/ab/y.json", b"new")
    assert not archive.abs("sidecars/ab/y.json").exists()
    assert archive.abs("sidecars/ab/x.json").read_bytes() == before


def test_rewrap_changes_only_the_header(tmp_path: Path) -> None:
    old, new = new_master_key(), new_master_key()
    archive = _archive(tmp_path, old)
    data = os.urandom(crypto.CHUNK + 5)
    archive.write_bytes("originals/ab/abcd.jpg", data)
    before = archive.abs("originals/ab/abcd.jpg").read_bytes()
    both = Archive(archive.root, keys=KeySource.of([new, old]), encrypt=True)
    assert both.rewrap("originals/ab/abcd.jpg", new)
    after = archive.abs("originals/ab/abcd.jpg").read_bytes()
    assert after[crypto.HEADER_LEN :] == before[crypto.HEADER_LEN :]  # no chunk re-encrypted
    assert after[: crypto.HEADER_LEN] != before[: crypto.HEADER_LEN]
    only_new = Archive(archive.root, keys=KeySource.of([new]))
    assert only_new.read_bytes("originals/ab/abcd.jpg") == data
    with pytest.raises(KeyUnavailable):
        Archive(archive.root, keys=KeySource.of([old])).read_bytes("originals/ab/abcd.jpg")


def test_key_file_must_be_private_and_outside_the_archive(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "master.key"
    write_key_file(key_file, [new_master_key()])
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert len(KeySource(key_file=key_file, env=False).master_keys()) == 1
    key_file.chmod(0o644)
    with pytest.raises(KeyUnavailable, match="chmod 600"):
        KeySource(key_file=key_file, env=False).master_keys()
    inside = tmp_path / "archive" / "master.key"
    write_key_file(inside, [new_master_key()])
    with pytest.raises(KeyUnavailable, match="outside the archive"):
        KeySource(key_file=inside, archive_root=tmp_path / "archive", env=False).master_keys()
    with pytest.raises(KeyUnavailable, match="not found"):
        KeySource(key_file=tmp_path / "nope.key", env=False).master_keys()


def test_key_from_environment_and_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = new_master_key()
    monkeypatch.setenv(crypto.MASTER_KEY_ENV, key.hex())
    assert KeySource(key_file=tmp_path / "absent").current() == key
    monkeypatch.delenv(crypto.MASTER_KEY_ENV)
    script = tmp_path / "kms.sh"
    script.write_text(f"#!/bin/sh\necho {key.hex()}\n")
    script.chmod(0o700)
    assert KeySource(key_command=str(script)).current() == key
    failing = KeySource(key_command="false")
    with pytest.raises(KeyUnavailable, match="exited 1"):
        failing.master_keys()


def test_encrypt_existing_file_checks_the_expected_hash(tmp_path: Path) -> None:
    plain = _archive(tmp_path, encrypt=False)
    data = b"%PDF-1.7 not really" * 1000
    stored = plain.write_bytes("pdf/ab/abcd.pdf", data)
    enc = Archive(plain.root, keys=KeySource.of([new_master_key()]), encrypt=True)
    with pytest.raises(TamperedFile):
        enc.encrypt_existing("pdf/ab/abcd.pdf", "0" * 64)
    assert plain.abs("pdf/ab/abcd.pdf").read_bytes() == data
    assert enc.encrypt_existing("pdf/ab/abcd.pdf", stored.sha256)
    assert not enc.encrypt_existing("pdf/ab/abcd.pdf", stored.sha256)  # already encrypted
    assert plain.abs("pdf/ab/abcd.pdf").read_bytes()[: len(crypto.MAGIC)] == crypto.MAGIC
    assert enc.read_bytes("pdf/ab/abcd.pdf") == data
